// How a container becomes a local process: the image picks an entrypoint (the project's
// image maps to this checkout's CLI), command/args override it as in Kubernetes, and
// $(VAR) references expand from the container's environment.
import { fileURLToPath } from 'node:url';
import { ImageNotRunnable } from './errors.js';

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: Record<string, Record<string, string>> }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string }; prefix?: string }[];
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  workingDir?: string;
}

export interface Probe {
  httpGet?: { path?: string; port: number | string; host?: string };
  tcpSocket?: { port: number | string; host?: string };
  grpc?: { port: number; service?: string };
  exec?: { command: string[] };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

const kubedaskBin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

/** Images this kubelet can run, by repository (tag ignored): their default entrypoint. */
export function defaultImages(): Record<string, string[]> {
  return { kubedask: [process.execPath, kubedaskBin] };
}

function repository(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  const bare = colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
  return bare.slice(bare.lastIndexOf('/') + 1);
}

/** Expands $(NAME) from env; $$(NAME) stays literal, as the kubelet does. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && env[name] !== undefined ? env[name]! : m);
}

/** argv for a container, or ImageNotRunnable when its image has no local mapping. */
export function containerArgv(c: ContainerSpec, env: Record<string, string>, images: Record<string, string[]>): string[] {
  const entry = images[repository(c.image ?? '')];
  const command = c.command?.map((s) => expand(s, env));
  const args = (c.args ?? []).map((s) => expand(s, env));
  if (command?.length) {
    // `kubedask ...` inside the project's image means this checkout's CLI.
    if (entry && command[0] === 'kubedask') return [...entry, ...command.slice(1), ...args];
    if (command[0] === 'node') return [process.execPath, ...command.slice(1), ...args];
    return [...command, ...args];
  }
  if (!entry) throw new ImageNotRunnable(`image "${c.image}" is not mapped to a local command and the container sets no command`);
  return [...entry, ...args];
}
