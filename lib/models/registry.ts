/**
 * The study's model types in the model registry (lib/core/registry.ts): loading this module
 * registers them, with this file as the module a gradient worker thread loads to rebuild them.
 */
import { buildModel, registerModel } from "../core/registry";
import { CausalMMM, type CausalMMMConfig } from "./causalmmm";
import { DeepCausalMMM, type DeepCausalMMMInput } from "./deepcausalmmm";
import { DiceStage1, type DiceStage1Config } from "./dice-stage1";
import { GraphSafeDecoder, type GraphSafeConfig, JointGruDecoder, type JointGruConfig } from "./graph-safe";

const here = { module: __filename };
registerModel("causalmmm", (spec) => new CausalMMM(spec as unknown as CausalMMMConfig), here);
registerModel("deepcausalmmm", (spec) => new DeepCausalMMM(spec as unknown as DeepCausalMMMInput), here);
registerModel("dice-stage1", (spec) => new DiceStage1(spec as unknown as DiceStage1Config), here);
registerModel("graph-safe", (spec) => new GraphSafeDecoder(spec as unknown as GraphSafeConfig), here);
registerModel("joint-gru", (spec) => new JointGruDecoder(spec as unknown as JointGruConfig), here);

export { buildModel, registerModel };
