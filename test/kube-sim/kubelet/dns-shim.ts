// Preloaded (node --import) into pod processes the kubelet starts: resolves Service DNS
// names (svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local) to the IP of a ready pod behind
// the Service, by asking the emulated API server. Other names resolve as usual.
import dns from 'node:dns';

const server = process.env.KUBE_SIM_SERVER ?? '';
const ownNamespace = process.env.KUBE_SIM_NAMESPACE ?? 'default';

type LookupCallback = (err: NodeJS.ErrnoException | null, address?: string | dns.LookupAddress[], family?: number) => void;

function serviceName(host: string): { name: string; namespace: string } | undefined {
  const parts = host.replace(/\.$/, '').split('.');
  if (parts.length === 1 && parts[0] !== 'localhost') return { name: parts[0]!, namespace: ownNamespace };
  if (parts.length === 2) return { name: parts[0]!, namespace: parts[1]! };
  if (parts.length === 3 && parts[2] === 'svc') return { name: parts[0]!, namespace: parts[1]! };
  if (parts.length === 5 && parts.slice(2).join('.') === 'svc.cluster.local') return { name: parts[0]!, namespace: parts[1]! };
  return undefined;
}

interface PodList { items: { status?: { podIP?: string; conditions?: { type: string; status: string }[] } }[] }

async function resolveService(name: string, namespace: string): Promise<string | undefined> {
  const svc = await fetch(`${server}/api/v1/namespaces/${namespace}/services/${name}`);
  if (!svc.ok) return undefined;
  const selector = ((await svc.json()) as { spec?: { selector?: Record<string, string> } }).spec?.selector ?? {};
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  if (!labelSelector) return undefined;
  const pods = await fetch(`${server}/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(labelSelector)}`);
  if (!pods.ok) return undefined;
  const ready = ((await pods.json()) as PodList).items.find((p) =>
    p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  return ready?.status?.podIP;
}

const original = dns.lookup.bind(dns);

function lookup(hostname: string, options: unknown, callback?: LookupCallback): void {
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
  const opts = (typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {}) as dns.LookupOptions;
  const svc = server ? serviceName(hostname) : undefined;
  if (!svc) return void original(hostname, opts as dns.LookupAllOptions, cb as never);
  resolveService(svc.name, svc.namespace).then((ip) => {
    if (!ip) return void original(hostname, opts as dns.LookupAllOptions, cb as never);
    if (opts.all) cb(null, [{ address: ip, family: 4 }]);
    else cb(null, ip, 4);
  }, () => original(hostname, opts as dns.LookupAllOptions, cb as never));
}

(dns as { lookup: unknown }).lookup = lookup;
(dns.promises as { lookup: unknown }).lookup = (hostname: string, options?: dns.LookupOptions) =>
  new Promise((resolve, reject) => lookup(hostname, options ?? {}, (err, address, family) =>
    err ? reject(err) : resolve(Array.isArray(address) ? address : { address: address!, family: family! })));
