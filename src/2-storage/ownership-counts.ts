// What an ownership walk reports, the same in this process and in its helpers.

/** What an ownership walk found and did; every field sums across helper processes. */
export interface OwnershipCounts {
  checked: number;
  reowned: number;
  /** Symbolic links: left alone, never followed. */
  symlinks: number;
  /** Non-directories with more than one link: one of them may be outside, so they are left alone. */
  hardlinks: number;
  /** Mount points of other filesystems: not descended into. */
  otherFilesystem: number;
  /** Device nodes: giving one away would give the device. */
  devices: number;
  /** In a shared directory, stream directories of users other than root and WWWUSER: not theirs to take. */
  foreign: number;
  /** Entries removed while the walk ran. */
  vanished: number;
  /** Directories that could not be entered or listed. */
  unreadable: number;
  /** Entries that were no longer the ones examined when the walk came to them: swapped or replaced. */
  changed: number;
  /** Entries the kernel would not re-own (an immutable file, say), each with the reason. */
  refused: number;
  /** Directories only root can write, left as they are: another start walking the tree holds its lock, and re-owns them. */
  busy: number;
  /** Paths from HLS_TEMP_DIR, escaped, a few of each kind. */
  hardlinkPaths: string[];
  foreignPaths: string[];
  vanishedPaths: string[];
  unreadablePaths: string[];
  changedPaths: string[];
  refusedPaths: string[];
  busyPaths: string[];
}

export function emptyOwnershipCounts(): OwnershipCounts {
  return {
    checked: 0, reowned: 0, symlinks: 0, hardlinks: 0, otherFilesystem: 0, devices: 0, foreign: 0, vanished: 0, unreadable: 0, changed: 0, refused: 0, busy: 0,
    hardlinkPaths: [], foreignPaths: [], vanishedPaths: [], unreadablePaths: [], changedPaths: [], refusedPaths: [], busyPaths: [],
  };
}
