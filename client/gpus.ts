// The GPUs this machine shows, for `kubedask local --gpus` (one worker per GPU, as dask-cuda's
// LocalCUDACluster): CUDA_VISIBLE_DEVICES when it is set, else `nvidia-smi -L`'s list.
import { execFileSync } from 'node:child_process';

/** Device ids (what CUDA_VISIBLE_DEVICES takes: indexes or UUIDs), in order; [] when none. */
export function visibleGpus(env: NodeJS.ProcessEnv = process.env): string[] {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined) {
    // "" or -1 hides every GPU; ids after an invalid one are ignored by CUDA too.
    const ids: string[] = [];
    for (const id of visible.split(',').map((s) => s.trim())) {
      if (!id || id.startsWith('-')) break;
      ids.push(id);
    }
    return ids;
  }
  let listing: string;
  try {
    listing = execFileSync('nvidia-smi', ['-L'], { env, encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // no nvidia-smi, or no driver: no GPU this process can use
  }
  // "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-...)"; MIG devices are indented lines under their GPU.
  return listing.split('\n').map((line) => /^GPU (\d+):/.exec(line)?.[1]).filter((id): id is string => id !== undefined);
}
