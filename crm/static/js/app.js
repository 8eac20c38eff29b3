// Progressive enhancement only: every page works without this file.
(function () {
  'use strict';
  // Lead form: show only the nodes of the chosen industry chain.
  var chain = document.getElementById('chain_id');
  var node = document.getElementById('chain_node_id');
  if (chain && node) {
    var all = Array.prototype.slice.call(node.options).map(function (o) {
      return { value: o.value, text: o.text, chain: o.getAttribute('data-chain') };
    });
    var refill = function () {
      var keep = node.value;
      node.innerHTML = '';
      all.forEach(function (o) {
        if (!o.value || !chain.value || o.chain === chain.value) {
          var opt = document.createElement('option');
          opt.value = o.value; opt.text = o.text;
          if (o.chain) { opt.setAttribute('data-chain', o.chain); }
          if (o.value === keep) { opt.selected = true; }
          node.appendChild(opt);
        }
      });
    };
    chain.addEventListener('change', refill);
    refill();
  }
  // Forms that ask before doing something irreversible.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      if (!window.confirm(form.getAttribute('data-confirm'))) { ev.preventDefault(); }
    });
  });
  // Auto-submit filter selects on the list page.
  document.querySelectorAll('[data-autosubmit]').forEach(function (el) {
    el.addEventListener('change', function () { el.form.submit(); });
  });
})();
// Import progress: poll until the job has finished, then reload the page for the outcome.
(function () {
  'use strict';
  var box = document.querySelector('[data-progress-url]');
  if (!box || !window.fetch) { return; }
  var bar = box.querySelector('progress');
  var text = box.querySelector('[data-progress-text]');
  var poll = function () {
    fetch(box.getAttribute('data-progress-url'), { credentials: 'same-origin' })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.total) { bar.max = s.total; }
        bar.value = s.done;
        text.textContent = s.done + ' / ' + (s.total || '?');
        // A dead worker, a retry, the queue away (crm.jobstatus): said under the bar.
        var notice = box.querySelector('[data-progress-notice]');
        if (!notice && s.notice) {
          notice = document.createElement('div');
          notice.className = 'small text-warning';
          notice.setAttribute('data-progress-notice', '');
          box.appendChild(notice);
        }
        if (notice) { notice.textContent = s.notice || ''; }
        if (s.status === 'done' || s.status === 'failed') { window.location = box.getAttribute('data-done-url'); }
        else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  };
  window.setTimeout(poll, 1000);
})();
