// Clean shutdown on Ctrl-C / SIGTERM: run the stop function once; a second signal forces exit.
export function onShutdownSignal(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    stop(signal).then(() => process.exit(0), (err: Error) => {
      process.stderr.write(`kubedask: error while stopping: ${err.message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
