/** Where a command writes. Tests pass their own to read what a command said. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** The process's own stdout and stderr, each text ending in one newline. */
export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};
