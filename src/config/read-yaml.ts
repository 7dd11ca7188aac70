import { Document, isAlias, isCollection, isNode, isScalar, LineCounter, parseDocument, visit, type Node } from 'yaml';

export interface YamlRead {
  document: Document;
  lineCounter: LineCounter;
  // The recipe as plain data, or undefined when `problems` is not empty.
  data: unknown;
  // Every reader error, each starting "line N, column M:".
  problems: string[];
}

// Aliases a recipe may expand before it counts as an alias bomb ("billion laughs"); the yaml library's own default.
const MAX_ALIAS_COUNT = 100;

// Reads recipe text as YAML, turning every way the reader can refuse it (syntax, duplicate keys, tabs, several
// documents, an alias with no anchor, an alias inside itself, a key that is a map or list, an alias bomb, nesting too
// deep for the reader) into a problem with its line and column, so none of them escapes as a crash.
export function readYaml(text: string): YamlRead {
  const lineCounter = new LineCounter();
  const problems: string[] = [];
  const at = (offset: number | undefined, message: string) => {
    const where = lineCounter.linePos(offset ?? 0);
    const problem = `line ${where.line}, column ${where.col}: ${message}`;
    if (!problems.some((known) => known.endsWith(message) && /nested too deeply/.test(message))) problems.push(problem);
  };
  let document: Document;
  try {
    document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    at(0, 'the YAML is nested too deeply to read');
    return { document: new Document(), lineCounter, data: undefined, problems };
  }
  for (const error of [...document.errors, ...document.warnings]) at(error.pos[0], describeReaderError(error.code, error.message));
  if (problems.length === 0) checkNodes(document, at);
  if (problems.length > 0) return { document, lineCounter, data: undefined, problems };
  try {
    return { document, lineCounter, data: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {}, problems };
  } catch (error) {
    if (error instanceof ReferenceError && /alias count/i.test(error.message)) {
      at(0, `the aliases expand to too much data (more than ${MAX_ALIAS_COUNT} copies): write the values out, or use fewer aliases`);
    } else if (error instanceof RangeError) {
      at(0, 'the YAML is nested too deeply to read');
    } else {
      throw error;
    }
    return { document, lineCounter, data: undefined, problems };
  }
}

function describeReaderError(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  if (/call stack/i.test(first)) return 'the YAML is nested too deeply to read';
  if (code === 'MULTIPLE_DOCS') return 'a recipe is one YAML document: remove the `---` line and whatever follows it, or merge the documents';
  if (code === 'DUPLICATE_KEY') return 'this key is already set above in the same map: keep one';
  if (code === 'TAB_AS_INDENT') return 'tabs are not allowed as indentation in YAML: indent with spaces';
  if (code === 'TAG_RESOLVE_FAILED') return `${first}: a recipe needs no YAML tags, remove it`;
  return first;
}

// Aliases and keys the reader accepts but a recipe cannot hold: an alias whose anchor is not defined before it, an
// alias that points at a node containing itself (an endless structure), and keys that are not plain scalars.
function checkNodes(document: Document, at: (offset: number | undefined, message: string) => void): void {
  visit(document, {
    Alias(_key, node, path) {
      const target = node.resolve(document);
      if (!target) {
        at(node.range?.[0], `the alias *${node.source} has no anchor &${node.source} above it: define the anchor first, or write the value out`);
        return;
      }
      if (path.some((ancestor) => ancestor === target)) {
        at(node.range?.[0], `the alias *${node.source} is inside the value it names, which would never end`);
      }
    },
    Pair(_key, pair) {
      if (pair.key !== null && isNode(pair.key) && (isCollection(pair.key) || isAlias(pair.key))) {
        at((pair.key as Node).range?.[0], 'a key must be a plain word, not a list, a map or an alias');
        return visit.SKIP;
      }
      if (isScalar(pair.key) && pair.key.value !== null && typeof pair.key.value === 'object') {
        at(pair.key.range?.[0], 'a key must be a plain word');
      }
      return undefined;
    },
  });
}
