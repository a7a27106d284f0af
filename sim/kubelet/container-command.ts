// How a container becomes a local process: its image's entrypoint (./images.ts), replaced by
// command and followed by args as in Kubernetes, with $(VAR) references expanded from the
// container's environment.
import { fileURLToPath } from 'node:url';

export interface ContainerSpec {
  name: string;
  image?: string;
  imagePullPolicy?: string;
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

/** Expands $(NAME) from env; $$(NAME) stays literal, as the kubelet does. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    m === '$$' ? '$' : name !== undefined && env[name] !== undefined ? env[name]! : m);
}

/**
 * argv for a container whose image was pulled with `entrypoint`: `command` replaces the
 * entrypoint, as in Kubernetes. The programs every runnable image here has run from this
 * machine: `kubedask` is this checkout's CLI and `node` this Node.js.
 */
export function containerArgv(c: ContainerSpec, env: Record<string, string>, entrypoint: string[]): string[] {
  const command = c.command?.map((s) => expand(s, env));
  const args = (c.args ?? []).map((s) => expand(s, env));
  const [program, ...rest] = command?.length ? [...command, ...args] : [...entrypoint, ...args];
  if (program === 'kubedask') return [process.execPath, kubedaskBin, ...rest];
  if (program === 'node') return [process.execPath, ...rest];
  return [program!, ...rest];
}
