// The labels a GPU node carries on a real cluster once the NVIDIA GPU operator runs: Node
// Feature Discovery's PCI label, the operator's `nvidia.com/gpu.present`, and GPU Feature
// Discovery's description of the card. Node selectors written for such a cluster (the
// README's examples/gpu-cluster.yaml selects nvidia.com/gpu.present=true) then match here too.
// kube-sim's GPUs are all the same card, an A100 80GB.

const CARD = {
  'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
  'nvidia.com/gpu.memory': '81920', // MiB, as GFD writes it
  'nvidia.com/gpu.family': 'ampere',
  'nvidia.com/gpu.compute.major': '8',
  'nvidia.com/gpu.compute.minor': '0',
  'nvidia.com/gpu.mode': 'compute',
  'nvidia.com/gpu.replicas': '1',
  'nvidia.com/cuda.driver.major': '550',
  'nvidia.com/cuda.runtime.major': '12',
  'nvidia.com/cuda.runtime.minor': '4',
};

/** Labels for a node with `count` GPUs; none for a node without. */
export function gpuLabels(count: number): Record<string, string> {
  if (count <= 0) return {};
  return {
    'feature.node.kubernetes.io/pci-10de.present': 'true',
    'nvidia.com/gpu.present': 'true',
    'nvidia.com/gpu.count': String(count),
    ...CARD,
  };
}
