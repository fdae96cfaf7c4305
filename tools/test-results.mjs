// A node:test reporter for `npm run test:repeat`: one JSON line per finished test
// ({ file, name, passed }), with the names of the suites around it in `name`.
export default async function* results(source) {
  const open = [];
  for await (const event of source) {
    if (event.type === "test:start") {
      open[event.data.nesting] = event.data.name;
      open.length = event.data.nesting + 1;
    }
    if (event.type === "test:pass" || event.type === "test:fail") {
      // Suites report too; their tests already say what happened inside them.
      if (event.data.details?.type === "suite") continue;
      const path = [...open.slice(0, event.data.nesting), event.data.name].join(" > ");
      yield `${JSON.stringify({ file: event.data.file, name: path, passed: event.type === "test:pass" && !event.data.skip })}\n`;
    }
  }
}
