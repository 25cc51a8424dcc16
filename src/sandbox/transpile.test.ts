import { describe, expect, it } from "vitest";
import { transpile } from "./transpile";

const body = (source: string) => {
  const result = transpile(source, "G");
  if (!result.ok) throw new Error(result.error.message);
  return result.body;
};

describe("transpile", () => {
  it("returns the last expression and keeps line numbers", () => {
    expect(body("const a: number = 1;\na + 1")).toBe("const a = 1;\nreturn (a + 1);");
  });

  it("leaves code with a top-level return alone", () => {
    expect(body("if (x) return 1;\nfoo()")).toBe("if (x) return 1;\nfoo()");
  });

  it("guards loop bodies, with and without braces", () => {
    expect(body("while (a) b();\nfor (;;) { c() }")).toBe("while (a) {G();b();}\nfor (;;) {G(); c() }");
    expect(body("do x++; while (x < 3)")).toBe("do {G();x++;} while (x < 3)");
  });

  it("guards functions, methods and concise arrows", () => {
    expect(body("function f() { return 1 }")).toBe("function f() {G(); return 1 }");
    expect(body("const o = { m() {} }")).toBe("const o = { m() {G();} }");
    expect(body("const f = (x) => ({ x })")).toBe("const f = (x) => {G();return ({ x })}");
  });

  it("guards class static blocks and field initialisers", () => {
    expect(body("class A { static { f() } x = g(); static y = 1; z; }")).toBe(
      "class A { static {G(); f() } x = (G(), g()); static y = (G(), 1); z; }",
    );
  });

  it("closes nested wrappers in the right order", () => {
    expect(body("x => y => x + y")).toBe("return (x => {G();return y => {G();return x + y}});");
    expect(body("while (a) while (b) c();")).toBe("while (a) {G();while (b) {G();c();}}");
  });

  it("does not touch loops inside strings and comments", () => {
    expect(body("// while (true) {}\n'for (;;) {}'")).toBe("// while (true) {}\nreturn ('for (;;) {}');");
  });

  it("reports a TypeScript syntax error with 1-based line and column", () => {
    expect(transpile("let a = 1;\nlet b: = 2;", "G")).toEqual({
      ok: false,
      error: { name: "SyntaxError", message: "Unexpected token", line: 2, column: 8 },
    });
  });
});
