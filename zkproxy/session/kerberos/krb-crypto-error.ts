/** A Kerberos decryption or integrity failure, or an unsupported or malformed key or input. */
export class KrbCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KrbCryptoError';
  }
}
