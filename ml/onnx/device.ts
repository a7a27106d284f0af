// On a worker: what device 'cuda' needs that is missing here, in words (or undefined when
// nothing is): onnxruntime-node's CUDA execution provider library, and a visible GPU.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const CUDA_PROVIDER_LIBRARY = 'libonnxruntime_providers_cuda.so';

/** Where onnxruntime-node keeps its native libraries for this platform. */
export function ortBinaryDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const bin = join(pkg, 'bin');
  const napi = existsSync(bin) ? readdirSync(bin).filter((d) => d.startsWith('napi-v')).sort().at(-1) : undefined;
  return join(bin, napi ?? 'napi-v6', process.platform, process.arch);
}

export function missingForCuda(env: NodeJS.ProcessEnv = process.env, devDir = '/dev'): string[] {
  const missing: string[] = [];
  const dir = ortBinaryDir();
  if (!existsSync(join(dir, CUDA_PROVIDER_LIBRARY))) {
    missing.push(`onnxruntime-node's CUDA execution provider (${CUDA_PROVIDER_LIBRARY} is not in ${dir}: onnxruntime-node's install script downloads it on linux/x64 unless ONNXRUNTIME_NODE_INSTALL=skip; ONNXRUNTIME_NODE_INSTALL=cuda12 forces it; Dockerfile.gpu builds such an image, with the CUDA 12 and cuDNN 9 libraries the provider loads)`);
  }
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && /^\s*(|-1|none|NoDevFiles)\s*$/i.test(visible)) missing.push(`a GPU (CUDA_VISIBLE_DEVICES=${JSON.stringify(visible)} hides them all)`);
  else if (process.platform === 'linux' && !(existsSync(devDir) && readdirSync(devDir).some((f) => /^nvidia\d+$/.test(f)))) {
    missing.push(`a GPU (no ${devDir}/nvidia* device on this worker: run the task on a GPU worker, e.g. kubedask local --gpus or a worker group with gpus)`);
  }
  return missing;
}
