// tensorcalc's page: read the form, POST /api/derive, render the answer. The URL holds the
// form (?e=…&wrt=…&compute=…&dialect=…&types=…), so a link reproduces the answer and the back
// button returns to the previous one.
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = ["e", "wrt", "compute", "dialect", "types"];
const INPUTS = { e: "expression", wrt: "wrt", compute: "compute", dialect: "dialect", types: "types" };
const KINDS = ["scalar", "vector", "row vector", "matrix", "symmetric matrix"];
const STEP_NAMES = { forward: "forward", local: "local", chain: "chain rule", delta: "δ removed",
  incoming: "incoming", result: "result", jacobian: "Jacobian", vjp: "vjp", cost: "cost" };
let pending = null;

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "text") node.textContent = value; else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function math(tex, display) {
  const node = element("span", { class: display ? "math display" : "math" });
  if (window.katex) katex.render(tex, node, { displayMode: display, throwOnError: false });
  else node.textContent = tex;  // KaTeX failed to load: the LaTeX source
  return node;
}

function copyButton(label, text) {
  const button = element("button", { type: "button", class: "copy", text: label });
  button.addEventListener("click", () => copy(text, button));
  return button;
}

async function copy(text, button) {
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (error) {
    button.textContent = "Select and copy";
  }
  setTimeout(() => { button.textContent = label; }, 1500);
}

// "a=vector; X=n,d" → {types: {a: "vector"}, shapes: {X: "n,d"}}
function typesAndShapes(text) {
  const types = {}, shapes = {};
  for (const part of text.split(/[;\n]+/)) {
    if (!part.trim()) continue;
    const [name, ...rest] = part.split("=");
    const value = rest.join("=").trim().replace(/[_-]/g, " ").replace(/\s+/g, " ");
    if (KINDS.includes(value)) types[name.trim()] = value;
    else shapes[name.trim()] = rest.join("=").replace(/\s+/g, "");
  }
  return { types, shapes };
}

function readForm() {
  const state = {};
  for (const key of FIELDS) state[key] = $(INPUTS[key]).value.trim();
  return state;
}

function fillForm(state) {
  for (const key of FIELDS) {
    const input = $(INPUTS[key]);
    input.value = state[key] || (input.tagName === "SELECT" ? input.options[0].value : "");
  }
}

function stateFromURL() {
  const params = new URLSearchParams(location.search);
  const state = {};
  for (const key of FIELDS) if (params.has(key)) state[key] = params.get(key);
  return state;
}

function urlFor(state) {
  const params = new URLSearchParams();
  for (const key of FIELDS) {
    if (state[key] && !(key === "compute" && state[key] === "grad")
        && !(key === "dialect" && state[key] === "matrix")) params.set(key, state[key]);
  }
  return "?" + params.toString();
}

function showError(error) {
  const alert = $("error");
  alert.textContent = error ? error.message : "";
  alert.classList.toggle("shown", Boolean(error));
  $("expression").setAttribute("aria-invalid", error ? "true" : "false");
  if (error && Number.isInteger(error.position) && error.message.includes("^")) {
    $("expression").setSelectionRange(error.position, error.end || error.position + 1);
  }
}

async function derive(state) {
  const started = performance.now();
  if (pending) pending.abort();
  pending = new AbortController();
  const result = $("result");
  result.setAttribute("aria-busy", "true");
  result.classList.add("working");
  const { types, shapes } = typesAndShapes(state.types || "");
  const request = {
    expression: state.e || "", compute: state.compute || "grad", dialect: state.dialect || "matrix",
    wrt: (state.wrt || "").split(/[,\s]+/).filter(Boolean), types, shapes,
  };
  let answer;
  try {
    const response = await fetch("api/derive", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request), signal: pending.signal,
    });
    answer = await response.json();
  } catch (error) {
    if (error.name === "AbortError") return;
    answer = { error: { message: "no answer from the server (is tensorcalc serve still running?)" } };
  }
  result.classList.remove("working");
  result.removeAttribute("aria-busy");
  if (answer.error) {
    showError(answer.error);
    return;
  }
  showError(null);
  render(answer);
  result.dataset.elapsedMs = String(Math.round(performance.now() - started));
}

function shapeText(shape) {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

function render(answer) {
  const result = $("result");
  result.replaceChildren(element("h2", { text: "Result" }));
  const variables = Object.entries(answer.variables).map(([n, s]) => `${n}: ${shapeText(s)}`);
  result.append(element("p", { class: "signature" },
    element("code", { text: `f(${Object.keys(answer.variables).join(", ")}) = ${answer.expression}` }),
    `  with ${variables.join(", ")}`));
  answer.derivatives.forEach((d, n) => {
    const check = answer.check && answer.check.results ? answer.check.results[n] : null;
    const rows = element("dl");
    const row = (term, ...value) => rows.append(element("dt", { text: term }), element("dd", {}, ...value));
    row("shape", element("code", { text: shapeText(d.shape) }));
    const kron = d.kronecker;
    row("matrix", d.matrix ? element("code", { class: "matrix-form", text: d.matrix })
      : kron && kron.form ? element("span", {}, element("code", { class: "kronecker-form", text: kron.form }),
        ` (as ${kron.convention})`)
      : element("span", { class: "none", text: `none: index form only${kron ? ` (${kron.reason})` : ""}` }));
    row("index", element("code", { class: "index-form", text: d.index }),
      d.matrix ? math(d.index_latex, false) : null);
    row("LaTeX", element("code", { class: "latex", text: d.latex }), copyButton("Copy LaTeX", d.latex));
    if (check) {
      row("check", element("span", { class: check.ok ? "ok" : "failed",
        text: `${check.ok ? "✓" : "✗"} relative error ${check.error === null ? "∞" : check.error.toExponential(1)}`
          + ` against central differences (${sizesText(answer.check.sizes)})` }));
    }
    result.append(element("article", { class: "derivative" },
      math(`${d.label_latex} = ${d.latex}`, true), rows));
  });
  if (answer.check && answer.check.error) result.append(element("p", { class: "note", text: "check: " + answer.check.error }));
  renderExplanation(answer.explanation);
  renderCode(answer.code);
}

function sizesText(sizes) {
  const entries = Object.entries(sizes || {});
  return entries.length ? "at " + entries.map(([d, n]) => `${d}=${n}`).join(", ") : "at random values";
}

function renderExplanation(explanation) {
  const section = $("explanation"), list = $("steps");
  section.hidden = !explanation;
  list.replaceChildren();
  if (!explanation) return;
  if (explanation.error) {
    list.append(element("li", { class: "note", text: explanation.error }));
    return;
  }
  for (const step of explanation.steps.filter((s) => s.level <= 2)) {
    const detail = step.note || (step.kind === "cost" ? "" : `shape ${shapeText(step.shape)}`);
    list.append(element("li", { class: `step ${step.kind}` },
      element("span", { class: "kind", text: STEP_NAMES[step.kind] || step.kind }),
      element("code", { text: step.index + (step.matrix ? "  =  " + step.matrix : "") }),
      detail ? element("span", { class: "detail", text: detail }) : null));
  }
}

function renderCode(code) {
  const section = $("code");
  section.hidden = !code;
  if (code) $("source").textContent = code.numpy || code.error;
}

function submit(push) {
  const state = readForm();
  if (!state.e) {
    showError({ message: "type an expression, such as x'*A*x" });
    return;
  }
  const url = urlFor(state);
  if (push && url !== location.search) history.pushState(state, "", url);
  derive(state);
}

document.addEventListener("DOMContentLoaded", () => {
  $("form").addEventListener("submit", (event) => { event.preventDefault(); submit(true); });
  document.querySelector("[data-copy=source]").addEventListener("click", (event) =>
    copy($("source").textContent, event.currentTarget));
  window.addEventListener("popstate", () => {
    fillForm(stateFromURL());
    if ($("expression").value) return submit(false);
    showError(null);  // back to the empty page
    $("result").replaceChildren();
    $("explanation").hidden = $("code").hidden = true;
  });
  const state = stateFromURL();
  fillForm(state);
  if (state.e) submit(false); else $("expression").focus();
});
