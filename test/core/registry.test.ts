import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildModel, modelKinds, modelModules, registerModel, registerModelModule } from "../../lib/core/registry";
import type { Trainable } from "../../lib/core/trainable";

describe("model registry", () => {
  const fake = (spec: Record<string, unknown>) => ({ kind: "fake", spec }) as unknown as Trainable;

  it("builds a registered kind from its spec; an unknown kind names the known ones", () => {
    registerModel("fake", fake);
    assert.deepEqual(buildModel("fake", { a: 1 }).spec, { a: 1 });
    assert.ok(modelKinds().includes("fake"));
    assert.throws(() => buildModel("nope", {}), /unknown model kind "nope" \(known: .*fake/);
  });

  it("a worker loads the module that registered a kind, else every announced model module", () => {
    registerModelModule("/announced/a.js");
    registerModelModule("/announced/a.js");
    assert.deepEqual(modelModules("fake"), modelModules("not-registered-here"));
    assert.ok(modelModules("fake").includes("/announced/a.js"));
    registerModel("fake-with-module", fake, { module: "/models/fake.js" });
    assert.deepEqual(modelModules("fake-with-module"), ["/models/fake.js"]);
  });

  it("the study's model modules announce lib/models/registry; loading it registers their kinds with it", () => {
    const before = modelModules("causalmmm");
    require("../../lib/models/causalmmm");
    const registry = require.resolve("../../lib/models/registry");
    assert.ok(!before.includes(registry) && modelModules("causalmmm").includes(registry), "importing a model class announces the registry module");
    require("../../lib/models/registry");
    assert.deepEqual(modelModules("causalmmm"), [registry]);
    for (const k of ["causalmmm", "deepcausalmmm", "dice-stage1", "graph-safe", "joint-gru"]) assert.ok(modelKinds().includes(k), k);
  });
});
