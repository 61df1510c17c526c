import { exitDescription, exited, signalGroup, spawnCommand } from '../util/child-process.ts';
import { formatDuration } from '../util/duration.ts';
import { encodeGo } from './go-json.ts';
import { OutputTail } from './output-tail.ts';
import type { WatchHandler, WatchLogger } from './plan.ts';

// Consul's script watch handler: the command gets the result as JSON on stdin (json.Encoder's compact line)
// and the index in CONSUL_INDEX. A handler that fails is logged and the watch goes on; one that runs past
// its timeout is killed with everything it started, so a hung handler cannot stall the watch.

export interface ScriptHandlerOptions {
  /** The command's words: run through the shell when `shell`, else as argv. */
  command: readonly string[];
  shell: boolean;
  /** 0 for no limit. */
  timeoutMs: number;
  /** Where the command's output goes: the CLI's own stdout/stderr, or the log (the agent). */
  output: 'inherit' | 'log';
  log: WatchLogger;
}

export function scriptHandler(options: ScriptHandlerOptions): WatchHandler {
  const { command, shell, timeoutMs, log } = options;
  const inherit = options.output === 'inherit';
  const handler = command.join(' ');
  return async (index, result, signal) => {
    const child = spawnCommand(command, shell, {
      env: { ...process.env, CONSUL_INDEX: String(index) },
      stdio: ['pipe', inherit ? 'inherit' : 'pipe', inherit ? 'inherit' : 'pipe'],
    });
    const output = new OutputTail();
    child.stdout?.on('data', output.add);
    child.stderr?.on('data', output.add);
    // A handler that does not read its input must not fail the write.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(`${encodeGo(result)}\n`);

    let timedOut = false;
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            timedOut = signalGroup(child, 'SIGKILL');
          }, timeoutMs)
        : undefined;
    // A watch that stops takes its running handler with it, as Consul forwards its signals to the handler.
    const stop = () => signalGroup(child, 'SIGTERM');
    signal.addEventListener('abort', stop, { once: true });
    try {
      const status = await exited(child);
      if (timedOut) {
        log.error(
          { watch_handler: handler, timeout: formatDuration(timeoutMs * 1e6) },
          'Watch handler timed out and was killed',
        );
      } else if (status.code !== 0 && !signal.aborted) {
        log.error({ watch_handler: handler, error: exitDescription(status) }, 'Failed to run watch handler');
      }
    } catch (err) {
      log.error({ watch_handler: handler, error: (err as Error).message }, 'Failed to run watch handler');
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
    // Captured output (the agent's handlers) goes to the log at debug level, as Consul's agent logs it.
    if (!inherit) log.debug({ watch_handler: handler, output: output.text() }, 'watch handler output');
  };
}
