import type { Tone } from './format';

/**
 * Badge colours of the seed's legend. Text colour is chosen for contrast (WCAG AA on each
 * background); the badge text carries the meaning as well.
 */
export const TONE_COLORS: Readonly<Record<Tone, { background: string; text: string }>> = {
  green: { background: '#1a7f37', text: '#ffffff' },
  red: { background: '#cf222e', text: '#ffffff' },
  grey: { background: '#6e7781', text: '#ffffff' },
  orange: { background: '#bc4c00', text: '#ffffff' },
  yellow: { background: '#f2c744', text: '#1f2328' },
};

const toneRules = Object.entries(TONE_COLORS)
  .map(([tone, c]) => `.tone-${tone}{background:${c.background};color:${c.text}}`)
  .join('\n');

/** The page's stylesheet: a laptop grid that folds to one column, and card rows, on a phone. */
export const DASHBOARD_CSS = `
:root{--bg:#f6f8fa;--panel:#fff;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--accent:#0969da;--bar:#54aeff;--err:#cf222e;
  font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
*{box-sizing:border-box}
body{margin:0;line-height:1.4}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px;top:0;background:var(--panel);padding:.5rem;z-index:10}
.skip:focus{left:.5rem}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1.25rem;background:#24292f;color:#fff}
header.top h1{font-size:1.25rem;margin:0}
.top-meta{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;font-size:.875rem}
.top-meta .muted{color:#d1d9e0}
button{font:inherit;border:1px solid var(--line);background:var(--panel);color:var(--ink);border-radius:6px;padding:.35rem .75rem;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.link{border:0;background:none;padding:0;color:var(--accent);text-decoration:underline;cursor:pointer;text-align:left}
main,#login{padding:1rem 1.25rem;max-width:1400px;margin:0 auto}
section.panel{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem;min-width:0}
h2{font-size:1.05rem;margin:0 0 .75rem}
h2 .muted{font-weight:normal}
.muted{color:var(--muted)}
#alert{margin:1rem 1.25rem 0;padding:.75rem 1rem;border-radius:6px;background:#ffebe9;border:1px solid #ff8182;color:#82071e}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.75rem;margin:0}
.stat{border:1px solid var(--line);border-radius:6px;padding:.6rem .75rem}
.stat dt{font-size:.8rem;color:var(--muted)}
.stat dd{margin:.15rem 0 0;font-size:1.25rem;font-weight:600;font-variant-numeric:tabular-nums}
.stat .note{display:block;font-size:.75rem;font-weight:normal;color:var(--muted)}
.stat ul{list-style:none;margin:.25rem 0 0;padding:0;font-size:.75rem;font-weight:normal}
form.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.6rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);gap:.2rem}
form.filters input,form.filters select{font:inherit;color:var(--ink);padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;background:#fff;min-width:0}
.actions{display:flex;gap:.5rem}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.875rem}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:middle}
thead th{font-size:.75rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.empty{text-align:center;color:var(--muted);padding:1rem}
tr.clickable{cursor:pointer}
tr.clickable:hover{background:#f6f8fa}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.8rem}
.id-cell{max-width:16rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.badge{display:inline-flex;gap:.3rem;align-items:center;border-radius:999px;padding:.1rem .55rem;font-size:.75rem;font-weight:600;white-space:nowrap}
.badge-small{padding:0 .4rem;font-size:.7rem}
${toneRules}
.legend{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;font-size:.8rem;color:var(--muted);margin:.75rem 0 0}
.pager{display:flex;gap:.75rem;align-items:center;justify-content:flex-end;margin-top:.75rem}
.section-head{display:flex;flex-wrap:wrap;gap:.5rem;align-items:baseline;justify-content:space-between;margin-bottom:.5rem}
.section-head h2{margin:0}
.chart{width:100%;height:auto;max-height:240px;display:block}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{font-size:11px;fill:var(--muted)}
.chart .bar-total{fill:var(--bar)}
.chart .bar-errors{fill:var(--err)}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:-1px}
.errors{list-style:none;margin:0;padding:0;font-size:.875rem}
.errors li{display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:baseline;padding:.35rem 0;border-bottom:1px solid var(--line)}
.errors li:last-child{border-bottom:0}
.errors .message{flex:1 1 16rem;overflow-wrap:anywhere}
.swatch-requests{background:var(--bar)}
.swatch-errors{background:var(--err)}
figure.timeline{margin:0}
details{margin-top:.5rem;font-size:.875rem}
dialog{border:1px solid var(--line);border-radius:8px;padding:0;width:min(720px,96vw);max-height:90vh}
dialog::backdrop{background:rgba(31,35,40,.5)}
dialog .dialog-head{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.75rem 1rem;border-bottom:1px solid var(--line);position:sticky;top:0;background:var(--panel)}
dialog .dialog-head h2{margin:0}
#detail-body{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:0;padding:1rem;font-size:.875rem}
#detail-body dt{color:var(--muted)}
#detail-body dd{margin:0;overflow-wrap:anywhere}
#detail-body pre{margin:0;white-space:pre-wrap;background:var(--bg);padding:.5rem;border-radius:4px}
#login form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:1rem;max-width:32rem}
#login label{display:flex;flex-direction:column;gap:.2rem;flex:1;font-size:.875rem}
#login input{font:inherit;padding:.4rem .5rem;border:1px solid var(--line);border-radius:6px}
#login-error{flex-basis:100%;color:var(--err);margin:0;min-height:1.2em}
@media (max-width:900px){.grid2{grid-template-columns:1fr}}
@media (max-width:640px){
  header.top,main,#login{padding-left:.75rem;padding-right:.75rem}
  .stats{grid-template-columns:1fr 1fr}
  .stat dd{font-size:1.15rem}
  .stat-wide{grid-column:1 / -1}
  table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
  table.cards tr{display:grid;grid-template-columns:1fr 1fr;gap:.25rem .75rem;padding:.6rem 0;border-bottom:1px solid var(--line)}
  table.cards td{display:block;border:0;padding:0;text-align:left}
  table.cards td::before{content:attr(data-label);display:block;font-size:.7rem;color:var(--muted)}
  table.cards td.id-cell,table.cards th[scope=row]{grid-column:1 / -1;max-width:none}
  table.cards th[scope=row]{display:block;border:0;padding:0}
  #detail-body{grid-template-columns:1fr}
  #detail-body dd{margin-bottom:.4rem}
}
`;
