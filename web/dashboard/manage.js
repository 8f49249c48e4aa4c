/* Station management for the bureau administrator: every unit (police
 * stations and publicity units, active or not), create or change one,
 * deactivate or activate it. A station's officers are managed in its own
 * view. */
'use strict';
const Manage = (() => {
  const $ = (id) => document.getElementById(id);

  async function toggle(u) {
    await GB.call('POST', '/v1/stations/' + encodeURIComponent(u.id) + (u.active ? '/deactivate' : '/activate'));
    await load();
  }

  function edit(u) {
    $('unit-id').value = u.id;
    $('unit-name').value = u.name;
    $('unit-bureau').value = u.bureau || '';
    $('unit-lat').value = u.lat;
    $('unit-lon').value = u.lon;
    $('unit-real').value = u.real ? '1' : '0';
    $('unit-name').focus();
  }

  async function load() {
    const r = await GB.call('GET', '/v1/stations?all=1');
    $('units').tBodies[0].replaceChildren(...r.stations.map((u) => GB.el('tr', { 'data-unit': u.id, class: u.active ? null : 'inactive' },
      GB.el('th', { scope: 'row' }, u.real ? GB.el('a', { href: '#/station/' + encodeURIComponent(u.id) }, u.id) : u.id),
      GB.el('td', {}, u.name), GB.el('td', {}, u.bureau || ''), GB.el('td', {}, u.real ? '派出所' : '宣传单位'),
      GB.el('td', {}, u.active ? '在用' : '已停用'),
      GB.el('td', {}, GB.el('button', { type: 'button', onclick: () => edit(u) }, '修改'),
        GB.el('button', { type: 'button', onclick: () => toggle(u).catch((e) => { $('unit-error').textContent = e.message; }) },
          u.active ? '停用' : '启用')))));
  }

  $('unit-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('unit-error').textContent = '';
    try {
      await GB.call('POST', '/v1/stations', { id: $('unit-id').value.trim(), name: $('unit-name').value.trim(),
        bureau: $('unit-bureau').value.trim(), lat: Number($('unit-lat').value), lon: Number($('unit-lon').value),
        real: $('unit-real').value === '1' });
      $('unit-form').reset();
      await load();
    } catch (e) { $('unit-error').textContent = e.message; }
  });

  async function show() {
    $('unit-error').textContent = '';
    await load();
  }

  return { show };
})();
