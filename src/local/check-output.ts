/** Consul keeps at most 4 KiB of a check's output and says how much it dropped. */
export const CHECK_OUTPUT_LIMIT = 4 * 1024;

export function truncateOutput(output: string): string {
  const bytes = Buffer.byteLength(output);
  if (bytes <= CHECK_OUTPUT_LIMIT) return output;
  const kept = Buffer.from(output).subarray(0, CHECK_OUTPUT_LIMIT).toString('utf8');
  return `${kept} ... (captured ${CHECK_OUTPUT_LIMIT} of ${bytes} bytes)`;
}
