import { shuffled } from '../util/shuffle.ts';
import { type CheckedInstance, checkedInstances } from './catalog-read.ts';
import type { Read } from './kv-read.ts';
import { lower, type StateDB, tableWatchKey } from './schema.ts';
import type { PreparedQueryRow } from './types.ts';
import type { WatchSet } from './watch.ts';

// Reading prepared queries: by ID, by name, or through the template whose name is the longest prefix of
// the name asked for (rendered with ${name.full}, ${name.prefix}, ${name.suffix} and ${match(N)}); and
// executing one: the healthy instances of its service that pass its tag and meta filters.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function listQueries(db: StateDB, ws: WatchSet): Read<PreparedQueryRow[]> {
  ws.add(tableWatchKey('prepared-queries'));
  const rows = [...db.preparedQueries.values()].sort((a, b) => (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
  return { index: db.tableIndex('prepared-queries'), value: rows };
}

export function getQuery(db: StateDB, ws: WatchSet, id: string): Read<PreparedQueryRow | undefined> {
  ws.add(tableWatchKey('prepared-queries'));
  return { index: db.tableIndex('prepared-queries'), value: db.preparedQueries.get(id) };
}

/** The query `idOrName` names, rendered when it comes from a template; undefined when none matches. */
export function resolveQuery(db: StateDB, idOrName: string): PreparedQueryRow | undefined {
  if (UUID.test(idOrName)) {
    const byId = db.preparedQueries.get(idOrName.toLowerCase());
    if (byId) return byId;
  }
  const [exact] = db.preparedQueries.group('name', lower(idOrName));
  if (exact && !exact.Template.Type) return exact;
  const template = [...db.preparedQueries.values()]
    .filter((q) => q.Template.Type === 'name_prefix_match' && lower(idOrName).startsWith(lower(q.Name)))
    .sort((a, b) => b.Name.length - a.Name.length)[0];
  return template && renderTemplate(template, idOrName);
}

function renderTemplate(template: PreparedQueryRow, name: string): PreparedQueryRow | undefined {
  const matches = template.Template.Regexp ? new RegExp(template.Template.Regexp).exec(name) : null;
  if (template.Template.Regexp && !matches) return undefined;
  const variables: Record<string, string> = {
    'name.full': name,
    'name.prefix': name.slice(0, template.Name.length),
    'name.suffix': name.slice(template.Name.length),
    'agent.segment': '',
  };
  const render = (text: string) =>
    text.replace(/\$\{\s*([^}]+?)\s*\}/g, (whole, expression: string) => {
      const match = /^match\((\d+)\)$/.exec(expression);
      if (match) return matches?.[Number(match[1])] ?? '';
      return variables[expression] ?? whole;
    });
  const tags = template.Service.Tags.map(render);
  return {
    ...template,
    Service: {
      ...template.Service,
      Service: render(template.Service.Service),
      Near: render(template.Service.Near),
      Tags: template.Template.RemoveEmptyTags ? tags.filter((t) => t !== '') : tags,
      NodeMeta: renderValues(template.Service.NodeMeta, render),
      ServiceMeta: renderValues(template.Service.ServiceMeta, render),
    },
  };
}

const renderValues = (map: Record<string, string>, render: (text: string) => string) =>
  Object.fromEntries(Object.entries(map).map(([k, v]) => [k, render(v)]));

/** The instances a query returns, shuffled as Consul returns them when no Near sort applies. */
export function executeQuery(db: StateDB, ws: WatchSet, query: PreparedQueryRow): Read<CheckedInstance[]> {
  const { index, value } = checkedInstances(db, ws, query.Service.Service, query.Service.Connect.Enabled);
  const ignored = new Set(query.Service.IgnoreCheckIDs);
  const healthy = value.filter(({ checks }) => {
    const counted = checks.filter((c) => !ignored.has(c.CheckID));
    if (counted.some((c) => c.Status === 'critical')) return false;
    return !query.Service.OnlyPassing || counted.every((c) => c.Status === 'passing');
  });
  const wanted = healthy.filter(
    (instance) =>
      tagsMatch(instance.service.Tags, query.Service.Tags) &&
      metaMatches(instance.node.Meta, query.Service.NodeMeta) &&
      metaMatches(instance.service.Meta, query.Service.ServiceMeta),
  );
  return { index, value: shuffled(wanted) };
}

/** Every tag must be present, and every `!tag` absent, ignoring case. */
function tagsMatch(tags: string[], wanted: string[]): boolean {
  const have = new Set(tags.map(lower));
  return wanted.every((tag) => (tag.startsWith('!') ? !have.has(lower(tag.slice(1))) : have.has(lower(tag))));
}

const metaMatches = (meta: Record<string, string>, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([k, v]) => meta[k] === v);
