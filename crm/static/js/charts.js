// Draws every .crm-chart[data-chart] with Apache ECharts (vendor/echarts, loaded before this file by
// the pages that have charts). The spec (templates/dashboard/_chart.html):
//   {"type": "bar"|"hbar"|"line"|"pie"|"funnel", "categories": [...],
//    "series": [{"name": ..., "data": [number|null, ...]}, ...], "unit": "%", "links": [url|null, ...]}
// A click on a bar, point, slice or funnel layer follows links[category index].
// Under the Content-Security-Policy: no inline script, no style attributes — heights are set through
// the CSSOM (element.style), tooltips are drawn on the canvas (renderMode 'richText': ECharts' HTML
// tooltips would write style attributes). Every chart has its table next to it (print, screen readers).
(function () {
  'use strict';
  if (!window.echarts) { return; }
  var PALETTE = ['#0d6efd', '#adb5bd', '#198754', '#fd7e14', '#6f42c1', '#20c997', '#dc3545', '#ffc107'];

  function withUnit(unit) {
    return function (value) {
      if (value === null || value === undefined || value === '-') { return '—'; }
      return unit ? value + unit : String(value);
    };
  }

  function option(spec) {
    var type = spec.type || 'bar';
    var unit = spec.unit || '';
    var categories = spec.categories || [];
    var series = spec.series || [];
    var named = series.length > 1 || series.some(function (s) { return s.name; });
    var base = {
      animation: false,
      color: PALETTE,
      tooltip: { renderMode: 'richText', trigger: (type === 'pie' || type === 'funnel') ? 'item' : 'axis',
                 valueFormatter: withUnit(unit) },
      legend: named ? { top: 0, type: 'scroll' } : { show: false }
    };
    if (type === 'pie' || type === 'funnel') {
      var first = series[0] || { data: [] };
      base.series = [{
        type: type, name: first.name || '', sort: 'none', minSize: '8%',
        radius: type === 'pie' ? ['35%', '65%'] : undefined,
        top: named ? 30 : 10, bottom: 10,
        label: { formatter: function (p) { return p.name + ' ' + withUnit(unit)(p.value); } },
        data: categories.map(function (name, i) {
          var value = first.data[i];
          return { name: name, value: value === null ? 0 : value };
        })
      }];
      base.legend = { show: false };
      return base;
    }
    var horizontal = type === 'hbar';
    var categoryAxis = { type: 'category', data: categories,
                         axisLabel: { interval: 0, hideOverlap: true, width: horizontal ? 110 : 80, overflow: 'truncate' } };
    var valueAxis = { type: 'value', axisLabel: { formatter: withUnit(unit) } };
    base.grid = { left: 8, right: horizontal ? 56 : 16, top: named ? 32 : 16, bottom: 8, containLabel: true };
    base.xAxis = horizontal ? valueAxis : categoryAxis;
    base.yAxis = horizontal ? categoryAxis : valueAxis;
    if (horizontal) { base.yAxis.inverse = true; }
    base.series = series.map(function (s) {
      return { type: type === 'line' ? 'line' : 'bar', name: s.name || '', data: s.data.map(function (v) {
        return v === null ? '-' : v;
      }), label: { show: !named && series.length === 1, position: horizontal ? 'right' : 'top',
                   formatter: function (p) { return withUnit(unit)(p.value); } } };
    });
    return base;
  }

  var charts = [];
  function draw(el) {
    var spec;
    try {
      spec = JSON.parse(el.getAttribute('data-chart'));
    } catch (e) {
      return null;  // the table beside it still says everything
    }
    el.style.height = (parseInt(el.getAttribute('data-height'), 10) || 280) + 'px';
    el.style.width = '100%';
    var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(option(spec), true);
    var links = spec.links || [];
    chart.off('click');
    if (links.some(function (l) { return l; })) {
      chart.on('click', function (p) {
        var url = links[p.dataIndex];
        if (url) { window.location.assign(url); }
      });
      chart.getZr().on('mousemove', function (e) {
        chart.getZr().setCursorStyle(e.target ? 'pointer' : 'default');
      });
    }
    el.setAttribute('data-rendered', '1');
    if (charts.indexOf(chart) < 0) { charts.push(chart); }
    return chart;
  }
  document.querySelectorAll('.crm-chart[data-chart]').forEach(draw);
  // For pages that add a chart later (and for the browser tests of every chart type).
  window.crmCharts = { draw: draw };
  var pending = null;
  window.addEventListener('resize', function () {
    if (pending) { window.clearTimeout(pending); }
    pending = window.setTimeout(function () {
      charts.forEach(function (c) { c.resize(); });
    }, 100);
  });
})();
