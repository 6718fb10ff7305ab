// One trainer per run. Two processes training the same run would write one checkpoint folder
// and overwrite each other's records, so a trainer claims its run first: the claim is refused
// while the holder lives, and taken over once it has died. On this host "lives" means its pid
// still names the same process; a holder on another host lives while its heartbeat is younger
// than the lease.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { UsageError } from '../errors.js';
import { isProcessAlive, processStartToken } from './processes.js';
import type { Store } from './interface.js';
import type { TrainerRecord } from './types.js';

/** How long a trainer on another host counts as alive after its last heartbeat. */
export const TRAINER_LEASE_SECONDS = 120;

/** The run is held by a live trainer. */
export class RunBusyError extends UsageError {}

/** The run was taken over by another trainer while this one trained it (this one had stalled past its lease). */
export class RunTakenOverError extends UsageError {}

const now = () => Date.now() / 1000;

/** Whether `t` still holds its run: a live process on this host, or a fresh heartbeat from another. */
export function trainerAlive(t: TrainerRecord, leaseSeconds = TRAINER_LEASE_SECONDS, at = now()): boolean {
  if (t.host === os.hostname()) return isProcessAlive(t.pid, t.start);
  return at - t.heartbeat < leaseSeconds;
}

function describe(t: TrainerRecord): string {
  return `pid ${t.pid} on ${t.host}`;
}

/** This process's claim on one run: take it, keep it alive while training, let it go at the end. */
export class RunClaim {
  private run: { id: string; name: string } | null = null;
  private lastBeat = 0;
  /** The holder this claim replaced because it had died, if any. */
  tookOverFrom: TrainerRecord | null = null;

  constructor(private readonly store: Store, readonly token: string = randomUUID(),
    private readonly leaseSeconds = TRAINER_LEASE_SECONDS) {}

  /** Claim the run, or throw RunBusyError naming the live process that holds it. */
  async take(run: { id: string; name: string }): Promise<void> {
    const mine: TrainerRecord = { pid: process.pid, host: os.hostname(), token: this.token, start: processStartToken(process.pid), heartbeat: now() };
    // A lost race means another claimant has just written its token; the next look finds it alive.
    for (let tries = 0; tries < 3; tries++) {
      const holder = await this.store.trainerOf(run.id);
      if (holder !== null && holder.token !== this.token && trainerAlive(holder, this.leaseSeconds)) {
        throw new RunBusyError(`run '${run.name}' is being trained by ${describe(holder)}; ` +
          'stop that process first (Ctrl-C checkpoints it) or wait for it to finish');
      }
      if (await this.store.claimTrainer(run.id, { ...mine, heartbeat: now() }, holder?.token ?? null)) {
        this.run = run;
        this.lastBeat = now();
        this.tookOverFrom = holder;
        return;
      }
    }
    throw new RunBusyError(`run '${run.name}' is being claimed by another process; try again once it has started`);
  }

  /**
   * Renew the heartbeat (at most every quarter lease unless `force`); throws
   * RunTakenOverError when another trainer holds the run, so this one stops before it writes.
   */
  async keep(force = false): Promise<void> {
    if (this.run === null) return;
    const at = now();
    if (!force && at - this.lastBeat < this.leaseSeconds / 4) return;
    if (!await this.store.beatTrainer(this.run.id, this.token, at)) {
      const holder = await this.store.trainerOf(this.run.id);
      const run = this.run;
      this.run = null;
      throw new RunTakenOverError(`run '${run.name}' was taken over by ${holder ? describe(holder) : 'another process'}; ` +
        'this process stopped without writing');
    }
    this.lastBeat = at;
  }

  /** Let the run go (if this claim still holds it). */
  async release(): Promise<void> {
    if (this.run === null) return;
    const run = this.run;
    this.run = null;
    await this.store.releaseTrainer(run.id, this.token);
  }
}
