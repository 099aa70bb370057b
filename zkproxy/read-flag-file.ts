/**
 * {@link readFlagFile}: reads a file a flag names (PEM certificates and keys), so that a missing
 * or unreadable one stops the start with the flag to fix rather than an I/O error.
 */
import { readFileSync } from 'node:fs';

/** The contents of `file`; throws naming `--flag` and the reason when it cannot be read. */
export function readFlagFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new Error(`cannot read --${flag} ${file}: ${(e as Error).message}`);
  }
}
