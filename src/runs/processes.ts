// Whether a process recorded in the store is still alive. A pid alone cannot say: once a
// process dies the system may give its pid to an unrelated one, so a trainer also records its
// start identity (boot id and start time, where /proc has them), and a pid whose identity has
// changed counts as dead.
import fs from 'node:fs';

let boot: string | undefined;

function bootId(): string {
  if (boot === undefined) {
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      boot = '';
    }
  }
  return boot;
}

/** `/proc/<pid>/stat`'s fields from the third on (the command name in field 2 may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** An identity of process `pid` that changes when its pid is reused; null where the system cannot tell. */
export function processStartToken(pid: number): string | null {
  const fields = statFields(pid);
  // Field 22 is the start time in clock ticks since boot, so the boot id makes it unique across reboots.
  return fields === null || fields[19] === undefined ? null : `${bootId()}:${fields[19]}`;
}

/**
 * True when process `pid` on this host exists, is not a zombie, and (where `startToken` was
 * recorded and the system can tell) is the same process that recorded it.
 */
export function isProcessAlive(pid: number, startToken: string | null = null): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const fields = statFields(pid);
  if (fields?.[0] === 'Z') return false; // killed, only waiting for its parent to read its exit status
  if (startToken === null) return true;
  const now = processStartToken(pid);
  return now === null || now === startToken;
}
