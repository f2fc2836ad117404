// The parts of QuickJS's built-in `os` and `std` modules wgts uses
// (quickjs-libc.c, QuickJS 2025-04-26).
declare module 'os' {
  export function setReadHandler(fd: number, fn: (() => void) | null): void;
  export function setWriteHandler(fd: number, fn: (() => void) | null): void;
  export function setTimeout(fn: () => void, delayMs: number): unknown;
  export function clearTimeout(handle: unknown): void;
  export function signal(signal: number, fn: (() => void) | null | undefined): void;
  export function now(): number;
  export function close(fd: number): number;
  export function remove(path: string): number;
  export function mkdir(path: string, mode?: number): number;
  export function stat(path: string): [{ mode: number; uid: number; size: number } | null, number];
  export function open(path: string, flags: number, mode?: number): number;
  export function dup2(oldfd: number, newfd: number): number;
  export function getpid(): number;
  export function kill(pid: number, sig: number): number;
  export const SIGINT: number;
  export const SIGTERM: number;
  export const SIGPIPE: number;
  export const O_RDWR: number;
  export const S_IFMT: number;
  export const S_IFSOCK: number;
}

declare module 'std' {
  interface FILE {
    puts(s: string): void;
    flush(): void;
    readAsString(max?: number): string;
  }
  export const out: FILE;
  export const err: FILE;
  const stdin: FILE;
  export { stdin as in };
  export function exit(code: number): never;
  export function getenv(name: string): string | undefined;
  export function strerror(errno: number): string;
}

/** QuickJS's command-line arguments (argv[0] is the script or program). */
declare const scriptArgs: string[];
