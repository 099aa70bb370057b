/** A ZooKeeper snapshot or log file that cannot be used: its message names the file and why. */
export class ZkDataFileError extends Error {}
