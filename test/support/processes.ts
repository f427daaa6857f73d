/** True while a process with this pid exists (a zombie included) and we may signal it. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
