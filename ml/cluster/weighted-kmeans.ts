// The client's part of k-means||: the candidates (a few times k points, each weighted by how
// many rows it stands for) are reduced to k centers by weighted k-means++ and a weighted Lloyd,
// in memory here, as Bahmani et al. and Spark MLlib do.

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let j = 0; j < a.length; j++) d += (a[j]! - b[j]!) ** 2;
  return d;
}


/** Index drawn with probability proportional to weights (the last positive one on rounding). */
function draw(weights: number[], random: () => number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return Math.floor(random() * weights.length);
  let r = random() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}

/**
 * Weighted k-means++ (Arthur & Vassilvitskii) with scikit-learn's greedy variant: each new
 * center is the best of 2 + ln(k) draws, the one that lowers the weighted potential most.
 */
export function weightedKMeansPlusPlus(points: number[][], weights: number[], k: number, random: () => number): number[][] {
  const centers = [points[draw(weights, random)]!];
  let closest = points.map((p) => squaredDistance(p, centers[0]!));
  const trials = 2 + Math.floor(Math.log(k));
  while (centers.length < k) {
    let bestPotential = Infinity;
    let best: { index: number; closest: number[] } | undefined;
    for (let t = 0; t < trials; t++) {
      const index = draw(closest.map((d, i) => d * weights[i]!), random);
      const next = points.map((p, i) => Math.min(closest[i]!, squaredDistance(p, points[index]!)));
      const potential = next.reduce((s, d, i) => s + d * weights[i]!, 0);
      if (potential < bestPotential) { bestPotential = potential; best = { index, closest: next }; }
    }
    centers.push(points[best!.index]!);
    closest = best!.closest;
  }
  return centers.map((c) => [...c]);
}

/** Weighted Lloyd iterations in memory, until no center moves (or 300 iterations). */
export function weightedLloyd(points: number[][], weights: number[], start: number[][]): number[][] {
  let centers = start.map((c) => [...c]);
  for (let it = 0; it < 300; it++) {
    const sums = centers.map((c) => c.map(() => 0));
    const totals = centers.map(() => 0);
    points.forEach((p, i) => {
      let best = 0;
      for (let c = 1; c < centers.length; c++) if (squaredDistance(p, centers[c]!) < squaredDistance(p, centers[best]!)) best = c;
      totals[best]! += weights[i]!;
      p.forEach((v, j) => { sums[best]![j]! += weights[i]! * v; });
    });
    const next = centers.map((c, i) => (totals[i]! > 0 ? sums[i]!.map((s) => s / totals[i]!) : c));
    const moved = next.some((c, i) => squaredDistance(c, centers[i]!) > 0);
    centers = next;
    if (!moved) break;
  }
  return centers;
}

