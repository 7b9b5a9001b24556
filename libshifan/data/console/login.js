/* The login page, served in place of any page while nobody is logged in
 * (401): POST /api/login, then the page asked for is loaded again. */
'use strict';

Console.define({
  login_title: ['示范县评估系统：操作员登录', 'Shifan: operator login'],
  login_name: ['操作员', 'Operator'],
  login_password: ['密码', 'Password'],
  login_submit: ['登录', 'Log in'],
  login_note: ['账户由节点管理员用命令 operator add 创建。', 'Accounts are made on the node with the operator add command.'],
  login_wrong: ['操作员或密码错误', 'Wrong operator name or password'],
});

async function login(event) {
  event.preventDefault();
  const body = { name: document.getElementById('name').value, password: document.getElementById('password').value };
  const { ok, status, data } = await Console.api('POST', '/api/login', body);
  if (ok) { location.reload(); return; }
  document.getElementById('login-error').textContent = status === 401 ? Console.t('login_wrong') : data.error;
}

document.getElementById('login').addEventListener('submit', login);
document.getElementById('lang').onclick = () => { Console.setLang(Console.lang() === 'en' ? 'zh' : 'en'); Console.translate(); };
Console.translate();
