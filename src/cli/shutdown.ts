/**
 * An AbortSignal that aborts on SIGINT or SIGTERM, as Consul's CLI makes a shutdown channel for its
 * long-running commands (watch, lock), so they can stop what they started before exiting.
 */
export function shutdownSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return controller.signal;
}
