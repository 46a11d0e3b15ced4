// Dependency-free: the CLI's device view and the console's device page share it.

/** One line of what a device reported it can run; unknown (an older agent) is said so. */
export function formatCapabilities(capabilities: Record<string, unknown> | null): string {
  if (!capabilities) return 'unknown (not reported: treated as compatible)';
  const c = capabilities as {
    ort_version?: string;
    max_opset?: number;
    execution_providers?: string[];
    arch?: string;
    memory_mb?: number;
    labels?: string[];
  };
  return [
    c.ort_version !== undefined ? `onnxruntime ${c.ort_version}` : null,
    c.max_opset !== undefined ? `opset <= ${c.max_opset}` : null,
    c.execution_providers?.length ? `providers ${c.execution_providers.join(',')}` : null,
    c.arch ?? null,
    c.memory_mb !== undefined ? `${c.memory_mb} MiB` : null,
    `labels ${c.labels?.length ? c.labels.join(',') : '-'}`,
  ]
    .filter((part) => part !== null)
    .join(', ');
}
