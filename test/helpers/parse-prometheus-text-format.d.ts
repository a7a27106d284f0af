// Types of the parse-prometheus-text-format package (it ships none), as far as the tests use it.
declare module 'parse-prometheus-text-format' {
  interface ParsedMetric {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  interface ParsedFamily { name: string; help: string; type: string; metrics: ParsedMetric[] }
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
