// Named errors of the worker runtime. Those that end a task reach the client by their `name`
// (RemoteError.name), so names are part of what users see.
import { KubedaskError } from '../../protocol/errors.js';

export class WorkerError extends KubedaskError {
  override name = 'WorkerError';
}

/** The thread running a task died (process.exit in the task, out of memory, fatal error). */
export class TaskThreadCrashedError extends WorkerError {
  override name = 'TaskThreadCrashed';
  constructor(readonly key: string, readonly threadId: number, readonly exitCode: number | undefined, options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : exitCode !== undefined ? ` with exit code ${exitCode}` : '';
    super(`task thread ${threadId} died while running ${key}${why}; the thread was replaced`, options);
  }
}

/** The task was cancelled while the pool had it; its run was dropped or its thread terminated. */
export class TaskCancelledError extends WorkerError {
  override name = 'TaskCancelledError';
  constructor(readonly key: string) {
    super(`task ${key} was cancelled`);
  }
}

export class PoolClosedError extends WorkerError {
  override name = 'PoolClosedError';
  constructor(readonly key: string) {
    super(`task ${key} was not run: the task pool is closed`);
  }
}

/** Task threads keep dying as they start; the pool gave up replacing them. */
export class PoolBrokenError extends WorkerError {
  override name = 'PoolBrokenError';
}

export class UnknownFunctionError extends WorkerError {
  override name = 'UnknownFunctionError';
  constructor(readonly key: string, readonly functionId: string) {
    super(`task ${key} refers to function ${functionId}, which this worker was never sent`);
  }
}

export class ModuleNotInstalledError extends WorkerError {
  override name = 'ModuleNotInstalledError';
  constructor(readonly module: string) {
    super(`module ${module} was not uploaded to this worker`);
  }
}

export class ModuleInstallError extends WorkerError {
  override name = 'ModuleInstallError';
  constructor(readonly module: string, options?: ErrorOptions) {
    super(`module ${module} could not be installed${options?.cause instanceof Error ? `: ${options.cause.message}` : ''}`, options);
  }
}

/** A dependency the state said was in memory is not in the data store. */
export class DependencyLostError extends WorkerError {
  override name = 'DependencyLostError';
  constructor(readonly key: string, readonly dependency: string) {
    super(`dependency ${dependency} of ${key} is not in this worker's memory`);
  }
}

export class SpillError extends WorkerError {
  override name = 'SpillError';
  constructor(message: string, readonly key: string, readonly path: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export class SchedulerLostError extends WorkerError {
  override name = 'SchedulerLostError';
  constructor(readonly scheduler: string, readonly afterMs: number, options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? ` (last error: ${options.cause.message})` : '';
    super(`lost the scheduler at ${scheduler} and could not reconnect within ${Math.round(afterMs / 1000)} s${why}`, options);
  }
}

export class WorkerOptionsError extends WorkerError {
  override name = 'WorkerOptionsError';
  constructor(message: string, readonly option: string) {
    super(message);
  }
}

export class UnknownKernelError extends WorkerError {
  override name = 'UnknownKernelError';
  constructor(readonly key: string, readonly kernel: string) {
    super(`task ${key} asks for built-in kernel "${kernel}", which this worker does not have (is it running an older kubedask than the client?)`);
  }
}

/**
 * A built-in kernel could not read these keys from any holder it was told of (a shuffle's
 * splits, read through a barrier's receipts). Not the task's failure: the worker reports the
 * keys missing, the scheduler recomputes them and runs the task again.
 */
export class InputsMissingError extends WorkerError {
  override name = 'InputsMissingError';
  constructor(readonly task: string, readonly keys: string[], readonly reasons: string[]) {
    super(`task ${task} could not read ${keys.length} input(s) from their holders (${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', ...' : ''}): ${reasons.slice(0, 3).join('; ')}`);
  }
}
