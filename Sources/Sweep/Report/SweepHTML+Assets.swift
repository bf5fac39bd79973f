/// The page's inline style sheet and script. Both are allowed by their SHA-256 in the page's CSP, so nothing
/// else (no injected `<script>`, no `style=` or `on…=` attribute) can run or apply; neither fetches anything.
extension SweepHTML {
    static let css = """
    :root{--bg:#f6f7f9;--fg:#1d2330;--mute:#5d6675;--line:#dde1e7;--card:#fff;--crit:#b4162b;--high:#dc5a14;--med:#b58a00;--low:#4a7ab8;--good:#1d8048}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
    header{background:#1d2330;color:#fff;padding:18px 28px}
    header h1{margin:0;font-size:22px;font-weight:600}
    .sub{margin:4px 0 0;color:#b9c0cc}
    main{padding:8px 28px 28px;max-width:1400px}
    h2{font-size:17px;margin:24px 0 10px}
    h3{font-size:15px;margin:18px 0 6px;word-break:break-all}
    code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
    small{color:var(--mute);font-weight:400;word-break:break-all}
    .cards{display:flex;flex-wrap:wrap;gap:10px}
    .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:130px}
    .card.wide{min-width:220px}
    .card .v{font-size:22px;font-weight:650}
    .card .l{color:var(--mute);font-size:12.5px;text-transform:uppercase;letter-spacing:.03em}
    .card .n{color:var(--mute);font-size:12px}
    .card.bad .v{color:var(--crit)}
    .card.good .v{color:var(--good)}
    .charts{display:flex;flex-wrap:wrap;gap:14px}
    .chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px;flex:1 1 480px;max-width:680px}
    figcaption{font-weight:600;margin-bottom:4px}
    svg{width:100%;height:auto;display:block}
    .grid{stroke:var(--line);stroke-width:1}
    .ya{font-size:10px;fill:var(--mute);text-anchor:end}
    .xa{font-size:10px;fill:var(--mute);text-anchor:middle}.xa.end{text-anchor:end}.xa.start{text-anchor:start}
    .line{fill:none;stroke-width:2;stroke-linejoin:round}
    .pt{fill:#fff;stroke-width:2}
    .total{stroke:#1d2330}
    .s-critical{stroke:var(--crit)}.s-high{stroke:var(--high)}.s-medium{stroke:var(--med)}.s-low{stroke:var(--low)}
    .c0{stroke:#3b6fd1}.c1{stroke:#d1473b}.c2{stroke:#2e9b5a}.c3{stroke:#a350c7}.c4{stroke:#d18f1f}.c5{stroke:#1f9bb0}.c6{stroke:#7a6a58}.c7{stroke:#c24f93}
    .legend{list-style:none;margin:6px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px}
    .legend li{word-break:break-all}
    .key{display:inline-block;width:14px;height:0;border-top:3px solid;margin-right:5px;vertical-align:middle}
    .key.total{border-color:#1d2330}.key.s-critical{border-color:var(--crit)}.key.s-high{border-color:var(--high)}.key.s-medium{border-color:var(--med)}.key.s-low{border-color:var(--low)}
    .key.c0{border-color:#3b6fd1}.key.c1{border-color:#d1473b}.key.c2{border-color:#2e9b5a}.key.c3{border-color:#a350c7}.key.c4{border-color:#d18f1f}.key.c5{border-color:#1f9bb0}.key.c6{border-color:#7a6a58}.key.c7{border-color:#c24f93}
    table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
    th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
    thead th{background:#eef0f4;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--mute);position:sticky;top:0}
    thead th{white-space:nowrap}
    thead button{all:unset;cursor:pointer}
    thead button::after{content:" \\2195";opacity:.35}
    th[aria-sort=ascending] button::after{content:" \\2191";opacity:1}
    th[aria-sort=descending] button::after{content:" \\2193";opacity:1}
    tr.img th{background:#f9fafb;font:500 12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
    tr.f td:nth-child(5){word-break:break-all;max-width:380px}
    .sv{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff}
    .sv.critical{background:var(--crit)}.sv.high{background:var(--high)}.sv.medium{background:var(--med)}.sv.low{background:var(--low)}
    tr.f td:first-child{font-weight:650;border-left:4px solid}
    tr.f.c td:first-child{color:var(--crit)}tr.f.h td:first-child{color:var(--high)}tr.f.m td:first-child{color:var(--med)}tr.f.l td:first-child{color:var(--low)}
    tr.f.n td:nth-child(2){color:var(--crit);font-weight:600}tr.f.r td:nth-child(2){color:var(--good)}
    tr.f td:nth-child(7){font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
    #filters{display:flex;flex-wrap:wrap;gap:10px 18px;align-items:center;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
    #filters[hidden]{display:none}
    fieldset{border:0;margin:0;padding:0;display:flex;gap:8px;align-items:center}
    legend{float:left;font-weight:600;margin-right:6px}
    select{max-width:260px}
    output{color:var(--mute);margin-left:auto}
    .failed td{word-break:break-all}
    .none{color:var(--good);font-weight:600}
    [hidden]{display:none!important}
    footer{padding:14px 28px;color:var(--mute);font-size:12px}
    """

    static let script = """
    (function () {
      'use strict';
      var form = document.getElementById('filters');
      if (!form) return;
      form.hidden = false;
      var rank = { critical: 4, high: 3, medium: 2, low: 1 };
      var rows = Array.prototype.slice.call(document.querySelectorAll('tr.f'));
      function checked(name) {
        var on = {};
        form.querySelectorAll('input[name=' + name + ']').forEach(function (c) { on[c.value] = c.checked; });
        return on;
      }
      function apply() {
        var sev = checked('sev'), st = checked('st');
        var group = document.getElementById('f-group').value, rule = document.getElementById('f-rule').value;
        var shown = 0;
        rows.forEach(function (r) {
          var ok = sev[r.cells[0].textContent] && st[r.cells[1].textContent] && (!rule || r.cells[2].textContent === rule) &&
            (!group || r.closest('section.grp').dataset.g === group);
          r.hidden = !ok;
          if (ok) shown++;
        });
        document.querySelectorAll('table.fnd tbody').forEach(function (b) {
          b.hidden = !b.querySelector('tr.f:not([hidden])');
        });
        document.querySelectorAll('section.grp').forEach(function (s) {
          s.hidden = !s.querySelector('tr.f:not([hidden])');
        });
        document.getElementById('f-count').textContent = shown + ' of ' + rows.length + ' findings';
      }
      form.addEventListener('change', apply);
      form.addEventListener('submit', function (e) { e.preventDefault(); });
      function key(row, k) {
        var t = row.cells[k].textContent;
        if (k === 0) return rank[t] || 0;
        if (k === 3) return t === '' ? -1 : Number(t);
        return t.toLowerCase();
      }
      // The headers become sort buttons here: without script they would do nothing, and 500 tables' worth of
      // button markup is 100 KB of the page.
      document.querySelectorAll('table.fnd thead th').forEach(function (th) {
        var b = document.createElement('button');
        b.type = 'button';
        b.dataset.k = String(th.cellIndex);
        b.textContent = th.textContent;
        th.textContent = '';
        th.appendChild(b);
      });
      var state = { k: -1, dir: 1 };
      document.querySelectorAll('thead button').forEach(function (b) {
        b.addEventListener('click', function () {
          var k = Number(b.dataset.k);
          state.dir = state.k === k ? -state.dir : (k === 0 ? -1 : 1);
          state.k = k;
          document.querySelectorAll('table.fnd thead th').forEach(function (th) {
            var bk = Number(th.firstChild.dataset.k);
            if (bk === k) th.setAttribute('aria-sort', state.dir > 0 ? 'ascending' : 'descending');
            else th.removeAttribute('aria-sort');
          });
          document.querySelectorAll('table.fnd tbody').forEach(function (body) {
            var list = Array.prototype.slice.call(body.querySelectorAll('tr.f'));
            list.sort(function (a, c) {
              var x = key(a, k), y = key(c, k);
              return (x < y ? -1 : x > y ? 1 : 0) * state.dir;
            });
            list.forEach(function (r) { body.appendChild(r); });
          });
        });
      });
      apply();
    })();
    """
}
