/*
 * stockroom storefront widget: <script src="https://stock.example.com/widget.js" defer></script>
 * Every element with data-stockroom-sku="SKU" shows that SKU's live availability label ("In stock",
 * "Only 3 left", "Out of stock", "Pre-order, ships in 5-7 days"), and carries it as data-stockroom-status.
 * If it also has data-stockroom-button="ID", the element with that id (or CSS selector) is disabled while
 * the SKU is out of stock and enabled again on restock. Updates arrive over Server-Sent Events: no reload,
 * no polling; the browser reconnects by itself and resumes where it left off. Each update is also
 * dispatched as a "stockroom:availability" event (detail: the item) that bubbles from the element.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var origin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var MAX_SKUS = 100;

  function apply(element, item) {
    element.textContent = item.label;
    element.setAttribute('data-stockroom-status', item.status);
    var target = element.getAttribute('data-stockroom-button');
    if (target) {
      var button = document.getElementById(target) || document.querySelector(target);
      if (button) button.disabled = item.status === 'out_of_stock';
    }
    element.dispatchEvent(new CustomEvent('stockroom:availability', { detail: item, bubbles: true }));
  }

  function start() {
    var bySku = {};
    var elements = document.querySelectorAll('[data-stockroom-sku]');
    for (var i = 0; i < elements.length; i++) {
      var sku = elements[i].getAttribute('data-stockroom-sku');
      if (sku) (bySku[sku] = bySku[sku] || []).push(elements[i]);
    }
    var skus = Object.keys(bySku);
    // one stream per hundred SKUs (what one stream may watch)
    for (var from = 0; from < skus.length; from += MAX_SKUS) follow(skus.slice(from, from + MAX_SKUS), bySku);
  }

  function follow(skus, bySku) {
    var query = skus
      .map(function (sku) {
        return 'sku=' + encodeURIComponent(sku);
      })
      .join('&');
    var stream = new EventSource(origin + '/v1/availability/stream?' + query);
    stream.addEventListener('availability', function (event) {
      var item = JSON.parse(event.data);
      var shown = bySku[item.sku] || [];
      for (var j = 0; j < shown.length; j++) apply(shown[j], item);
    });
    stream.addEventListener('error', function () {
      // while connecting again the browser retries by itself; closed means refused (an unknown SKU, say)
      if (stream.readyState !== EventSource.CLOSED) return;
      skus.forEach(function (sku) {
        (bySku[sku] || []).forEach(function (element) {
          if (element.hasAttribute('data-stockroom-status')) return;
          element.textContent = 'Not available';
          element.setAttribute('data-stockroom-status', 'unavailable');
        });
      });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
