// A watch's parameters as Consul's watch.Parse reads them (a map from the CLI's flags or the agent config's
// `watches` entries): each is taken once and type-checked with Consul's wording, and whatever no part of the
// watch took is refused as "Invalid parameters".

export class WatchParseError extends Error {}

export class Params {
  private readonly left: Map<string, unknown>;

  constructor(params: Record<string, unknown>) {
    this.left = new Map(Object.entries(params));
  }

  has(name: string): boolean {
    return this.left.has(name);
  }

  /** Takes a parameter whatever its type (handlers' own settings). */
  take(name: string): unknown {
    const value = this.left.get(name);
    this.left.delete(name);
    return value;
  }

  string(name: string): string {
    if (!this.left.has(name)) return '';
    const value = this.take(name);
    if (typeof value !== 'string') throw new WatchParseError(`Expecting ${name} to be a string`);
    return value;
  }

  bool(name: string): boolean {
    if (!this.left.has(name)) return false;
    const value = this.take(name);
    if (typeof value !== 'boolean') throw new WatchParseError(`Expecting ${name} to be a boolean`);
    return value;
  }

  /** A string or a list of strings (a tag given once or repeated). */
  strings(name: string): string[] {
    if (!this.left.has(name)) return [];
    const value = this.take(name);
    if (typeof value === 'string') return [value];
    if (!Array.isArray(value)) throw new WatchParseError(`Expecting ${name} to be a string or []string`);
    return value.map((item, i) => {
      if (typeof item !== 'string') throw new WatchParseError(`Index ${i} of ${name} expected to be string`);
      return item;
    });
  }

  /** Refuses what nothing took, as Go prints the list: "Invalid parameters: [a b]". */
  checkAllTaken(): void {
    if (this.left.size > 0)
      throw new WatchParseError(`Invalid parameters: [${[...this.left.keys()].sort().join(' ')}]`);
  }
}
