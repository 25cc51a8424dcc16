/**
 * @module The user's skills for `search_tools` and `get_mcp_schema`: one more API, under the server
 * name "skills", whose tools are the current skills (`skill-api.ts` builds it). Read from D1 per
 * call, so a skill saved in any session of the user is found at once.
 */
import { currentSkills } from "../store/skills";
import { skillApi, type SkillApi } from "./skill-api";

/**
 * `tools` are search candidates (`{ ...tool, server: "skills" }` beside the servers' tools, for
 * `findTools`); `declarations` is what `get_mcp_schema { server: "skills" }` answers.
 */
export async function userSkillApi(db: D1Database, userId: string): Promise<SkillApi> {
  return skillApi(await currentSkills(db, userId));
}
