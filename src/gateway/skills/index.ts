/**
 * Skills for the agent loop and the Skills view: one `SkillLibrary` per gateway run; `load()` with the
 * workspace folders, the user's skills folder and pushed skills; put `skillsPrompt()` in the system
 * prompt and send `readSkillTool()` beside it (when the prompt is not empty); answer `read_skill` calls
 * with `readSkill(args)`.
 */
export { SkillLibrary, READ_SKILL_TOOL, type SkillInfo, type SkillProblem, type SkillSource, type SkillSources } from './skillLibrary';
export { parseSkillMd, SkillParseError, type ParsedSkill } from './skillFile';
