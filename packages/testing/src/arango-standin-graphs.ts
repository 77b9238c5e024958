/**
 * Named graphs (ArangoDB's "gharial" HTTP API) for the ArangoDB STAND-IN: the calls the
 * store adapter makes through arangojs, with ArangoDB's paths, bodies, status codes and
 * errors.dat numbers:
 *
 *   POST /_api/gharial          {name, edgeDefinitions: [{collection, from, to}], orphanCollections, options}
 *                               → 202 {graph}; the edge and vertex collections are created when
 *                               missing (the edge collection as type 3), 1925 when the name is taken,
 *                               1944 when an edge definition names a document collection
 *   GET  /_api/gharial          → {graphs: [...]}
 *   GET  /_api/gharial/{name}   → {graph}, 1924 when there is none
 *
 * Anything else under /_api/gharial is refused by the stand-in's router.
 */
export const COLLECTION_TYPES = { document: 2, edge: 3 } as const;

export interface EdgeDefinition {
  collection: string;
  from: string[];
  to: string[];
}

export interface NamedGraph {
  name: string;
  edgeDefinitions: EdgeDefinition[];
  orphanCollections: string[];
}

/** What the stand-in's gharial needs from its database. */
export interface GraphDatabase {
  graphs: Map<string, NamedGraph>;
  /** The collection's type, or undefined when it does not exist. */
  typeOf(name: string): number | undefined;
  create(name: string, type: number): void;
}

/** An error the stand-in answers as ArangoDB does: HTTP status, errorNum, errorMessage. */
export class ArangoFailure extends Error {
  readonly status: number;
  readonly errorNum: number;
  constructor(status: number, errorNum: number, message: string) {
    super(message);
    this.status = status;
    this.errorNum = errorNum;
  }
}

const NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,255}$/;
// errors.dat: graph not found, duplicate, malformed edge definition, edge definition names a document collection.
const E = {
  notFound: 1924,
  duplicate: 1925,
  malformed: 1923,
  missingName: 1922,
  isDocument: 1944,
  illegalName: 1208,
} as const;

const describe = (g: NamedGraph): Record<string, unknown> => ({
  _key: g.name,
  _id: `_graphs/${g.name}`,
  _rev: '_graph---',
  name: g.name,
  edgeDefinitions: g.edgeDefinitions,
  orphanCollections: g.orphanCollections,
  numberOfShards: 1,
  replicationFactor: 1,
  isSmart: false,
  isDisjoint: false,
  isSatellite: false,
});

function edgeDefinitions(value: unknown): EdgeDefinition[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ArangoFailure(400, E.malformed, 'edge definition array expected');
  return value.map((d) => {
    const def = d as Partial<EdgeDefinition>;
    const names = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);
    if (
      typeof def !== 'object' ||
      def === null ||
      typeof def.collection !== 'string' ||
      names(def.from).length === 0 ||
      names(def.to).length === 0
    ) {
      throw new ArangoFailure(
        400,
        E.malformed,
        'edge definition is malformed. It has to be an array of objects with [ collection, from, to ]',
      );
    }
    return { collection: def.collection, from: names(def.from), to: names(def.to) };
  });
}

/** Routes `/_api/gharial…`; returns [status, body] or undefined when the route is not gharial's. */
export function routeGharial(
  db: GraphDatabase,
  method: string,
  api: string[],
  body: unknown,
): [number, unknown] | undefined {
  if (api[0] !== '_api' || api[1] !== 'gharial') return undefined;
  if (method === 'GET' && api.length === 2)
    return [200, { error: false, code: 200, graphs: [...db.graphs.values()].map(describe) }];
  if (method === 'GET' && api.length === 3) {
    const graph = db.graphs.get(api[2]!);
    if (!graph) throw new ArangoFailure(404, E.notFound, `graph '${api[2]}' not found`);
    return [200, { error: false, code: 200, graph: describe(graph) }];
  }
  if (method === 'POST' && api.length === 2) {
    const spec = (body ?? {}) as { name?: unknown; edgeDefinitions?: unknown; orphanCollections?: unknown };
    if (typeof spec.name !== 'string' || spec.name === '')
      throw new ArangoFailure(400, E.missingName, 'graph name is missing');
    if (!NAME.test(spec.name)) throw new ArangoFailure(400, E.illegalName, `illegal name: graph name invalid`);
    if (db.graphs.has(spec.name)) throw new ArangoFailure(409, E.duplicate, `graph already exists`);
    const definitions = edgeDefinitions(spec.edgeDefinitions);
    const orphans = Array.isArray(spec.orphanCollections) ? spec.orphanCollections.map(String) : [];
    for (const d of definitions) {
      const type = db.typeOf(d.collection);
      if (type === COLLECTION_TYPES.document)
        throw new ArangoFailure(400, E.isDocument, `Collection used as a relation exists: ${d.collection}`);
    }
    for (const d of definitions) {
      if (db.typeOf(d.collection) === undefined) db.create(d.collection, COLLECTION_TYPES.edge);
      for (const v of [...d.from, ...d.to]) if (db.typeOf(v) === undefined) db.create(v, COLLECTION_TYPES.document);
    }
    for (const o of orphans) if (db.typeOf(o) === undefined) db.create(o, COLLECTION_TYPES.document);
    const graph: NamedGraph = { name: spec.name, edgeDefinitions: definitions, orphanCollections: orphans };
    db.graphs.set(graph.name, graph);
    return [202, { error: false, code: 202, graph: describe(graph) }];
  }
  return undefined;
}

/** `_from`/`_to` of an edge document: `<collection>/<key>`, as ArangoDB requires (1233 otherwise). */
export function isDocumentHandle(value: unknown): boolean {
  return typeof value === 'string' && /^[a-zA-Z][a-zA-Z0-9_-]{0,255}\/[A-Za-z0-9_\-.@()+,=;$!*'%:]{1,254}$/.test(value);
}
