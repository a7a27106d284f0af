// Draws every panel of a page from the model; shared by the live page and the report, which
// have the same panel ids where they show the same thing.
import { createTaskStream } from './stream.js';
import { createMemoryChart, createScalingChart, createStoredChart } from './charts.js';
import { renderDecisions, renderFailed, renderMemory, renderProgress, renderSummary, renderWorkersTable, renderWorkload } from './panels.js';

export function createView(model) {
  const panel = (id) => document.getElementById(id);
  const stream = panel('stream') && createTaskStream(panel('stream'), model);
  const charts = [
    panel('scaling') && createScalingChart(panel('scaling')),
    panel('stored') && createStoredChart(panel('stored')),
    panel('memory-chart') && createMemoryChart(panel('memory-chart')),
  ].filter(Boolean);
  const panels = [
    ['summary', (e) => renderSummary(e, model)],
    ['progress', (e) => renderProgress(e, model.progress)],
    ['memory', (e) => renderMemory(e, model.workers)],
    ['workload', (e) => renderWorkload(e, model.workers)],
    ['workers', (e) => renderWorkersTable(e, model.workers)],
    ['failed', (e) => renderFailed(e, model.failed)],
    ['decisions', (e) => renderDecisions(e, model.decisions)],
  ].filter(([id]) => panel(id));
  const resize = () => { for (const c of charts) c.resize(); };
  window.addEventListener('resize', resize);
  return {
    render() {
      stream?.request();
      for (const [id, render] of panels) render(panel(id));
      for (const c of charts) c.update(model);
    },
    /** Takes the view down (plots, canvas, listeners), so a new one can draw another model. */
    destroy() {
      window.removeEventListener('resize', resize);
      stream?.destroy();
      for (const c of charts) c.destroy();
      for (const [id] of panels) {
        panel(id).replaceChildren();
        delete panel(id).dataset.shown;
      }
    },
  };
}
