import { parseAllDocuments } from 'yaml';
import { UserError } from '../../errors.ts';

// One Kubernetes object of a manifest file, named the way `kubectl apply` reports it.
export interface ManifestObject {
  kind: string;
  name: string;
  namespace?: string;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

interface SchemaError {
  instancePath?: string;
  message?: string;
}

// Reads every document of a manifest file and checks each object before anything is written: YAML syntax,
// apiVersion/kind/metadata.name, and for the built-in kinds the full schema kubernetes-models carries (kinds it
// does not know, such as custom resources, get the first checks only). The error names the file, the document,
// the object and the field.
export async function checkManifest(text: string, where: string): Promise<ManifestObject[]> {
  const documents = parseAllDocuments(text);
  const objects: ManifestObject[] = [];
  const fail = (index: number, label: string, message: string): never => {
    throw new UserError(`manifests: ${where}, document ${index + 1}${label}: ${message}`, 'fix the manifest (`kubectl apply --dry-run=client -f FILE` shows the same), then build again');
  };
  for (const [index, document] of (Array.isArray(documents) ? documents : [documents]).entries()) {
    if (document.errors.length > 0) fail(index, '', `not valid YAML (${document.errors[0]?.message.split('\n')[0] ?? 'parse error'})`);
    const value = document.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) fail(index, '', 'is not a Kubernetes object (a map with apiVersion and kind)');
    const object = value as Record<string, unknown>;
    const { apiVersion, kind } = object;
    if (typeof apiVersion !== 'string' || apiVersion === '') fail(index, '', 'field apiVersion: missing (e.g. apps/v1)');
    if (typeof kind !== 'string' || kind === '') fail(index, '', 'field kind: missing (e.g. Deployment)');
    const metadata = (object.metadata ?? {}) as Record<string, unknown>;
    const label = ` (${String(kind)}${typeof metadata.name === 'string' ? ` ${metadata.name}` : ''})`;
    if (kind === 'List') fail(index, label, 'a List: write its items as documents of their own (separated by ---)');
    if (typeof metadata.name !== 'string' || metadata.name === '') fail(index, label, 'field metadata.name: missing');
    const model = await findModel(String(apiVersion), String(kind));
    if (model) {
      try {
        new model(object).validate();
      } catch (error) {
        const first = ((error as { errors?: SchemaError[] }).errors ?? [])[0];
        const field = (first?.instancePath ?? '').replace(/^\//, '').split('/').map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`)).join('').replace(/^\./, '');
        fail(index, label, first ? `field ${field || '(top level)'}: ${first.message ?? 'is not valid'}` : (error as Error).message);
      }
    }
    objects.push({ kind: String(kind), name: String(metadata.name), ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}) });
  }
  if (objects.length === 0) throw new UserError(`manifests: ${where} holds no Kubernetes object`, 'list files that hold at least one object, or remove it from `manifests:`');
  return objects;
}

// The kubernetes-models class for a built-in apiVersion/kind (kubernetes-models/apps/v1 exports Deployment, …).
async function findModel(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^[a-z0-9.]*\/?v\d+[a-z0-9]*$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  const module = await import(`kubernetes-models/${apiVersion}`).catch(() => undefined) as Record<string, unknown> | undefined;
  const model = module?.[kind];
  return typeof model === 'function' ? model as ModelClass : undefined;
}
