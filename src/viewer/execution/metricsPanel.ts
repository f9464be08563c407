import { duration, h } from '../dom.js';
import type { Metrics } from './executionModel.js';

export class MetricsPanel {
  readonly element = h('dl', { class: 'metrics' });

  show(metrics: Metrics): void {
    const utilisation = metrics.parallelismUtilization === null ? '–' : `${Math.round(metrics.parallelismUtilization * 100)} %`;
    const rows: Array<[string, string]> = [
      ['Nodes', `${metrics.completedNodes} of ${metrics.totalNodes} completed, ${metrics.failedNodes} failed`],
      ['Average node duration', duration(metrics.averageNodeDurationMs)],
      ['Longest running node', metrics.longestRunningNode ?? '–'],
      ['Bottleneck nodes', metrics.bottleneckNodes.length ? metrics.bottleneckNodes.join(', ') : 'none'],
      ['Parallelism utilisation', utilisation],
    ];
    this.element.replaceChildren(...rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', { class: term === 'Bottleneck nodes' ? 'bottleneck-list' : null }, value)]));
  }
}
