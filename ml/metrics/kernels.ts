export const metricKernels = {};
