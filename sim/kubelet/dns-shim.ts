// Preloaded (node --import) into pod processes the kubelet starts, to give them what a pod
// network gives: Service DNS names (svc, svc.ns, svc.ns.svc, svc.ns.svc.cluster.local) resolve
// to the IP of a ready pod behind the Service, by asking the emulated API server (other names
// resolve as usual), and servers bound to every interface listen on the pod's own IP.
import dns from 'node:dns';
import net from 'node:net';

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

// A pod has its own network namespace, so a server bound to 0.0.0.0 (or with no host) listens on
// the pod's own address and two pods can use the same port. Pods here share the host's network:
// bind such servers to the pod IP instead, which is what they would be reachable at anyway.
const podIp = process.env.POD_IP;
if (podIp) {
  const wildcard = (h: unknown) => h === undefined || h === null || h === '' || h === '0.0.0.0' || h === '::' || h === '[::]';
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function patched(this: net.Server, ...args: unknown[]) {
    const [first, second] = args;
    if (typeof first === 'object' && first !== null && !('_handle' in first) && 'port' in first && wildcard((first as net.ListenOptions).host)) {
      args[0] = { ...(first as net.ListenOptions), host: podIp };
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      if (typeof second === 'function' || second === undefined || typeof second === 'number') args.splice(1, 0, podIp);
      else if (wildcard(second)) args[1] = podIp;
    }
    return listen.apply(this, args as Parameters<typeof listen>);
  } as typeof listen;
}
