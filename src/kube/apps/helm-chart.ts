import { stringify } from 'yaml';
import type { FetchedChart } from './plan-apps.ts';

// The HelmChart resource k3s's helm-controller installs, with the packaged chart inline (spec.chartContent, base64)
// as k3s ships its own charts, so the Pi needs no chart repository; values go in spec.valuesContent.
export function makeHelmChart(chart: Pick<FetchedChart, 'name' | 'version' | 'namespace' | 'values'>, tarball: Buffer): string {
  const resource = {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChart',
    metadata: { name: chart.name, namespace: 'kube-system' },
    spec: {
      chartContent: tarball.toString('base64'),
      targetNamespace: chart.namespace,
      createNamespace: true,
      ...(Object.keys(chart.values).length > 0 ? { valuesContent: stringify(chart.values) } : {}),
    },
  };
  return `# written by pikube: ${chart.name} ${chart.version}\n${stringify(resource, { lineWidth: 0 })}`;
}
