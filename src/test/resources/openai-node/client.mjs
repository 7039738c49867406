// Drives LAAI's OpenAI-compatible API with the official openai npm client, unmodified, and prints
// what the client returned (or threw) as one JSON object for OpenAiNodeClientTest to check.
import OpenAI from "openai";

const [baseURL, task] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
const out = {};

async function caught(f) {
  try {
    await f();
    return { thrown: false };
  } catch (e) {
    return { thrown: true, class: e.constructor.name, status: e.status ?? null, message: e.message,
      type: e.type ?? null, code: e.code ?? null, param: e.param ?? null };
  }
}

async function text(stream, part) {
  let s = "";
  for await (const chunk of stream) s += part(chunk) ?? "";
  return s;
}

out.models = (await client.models.list()).data.map((m) => m.id);
out.task = await client.models.retrieve(task);

const completion = await client.completions.create({ model: task, prompt: "Once upon a time", max_tokens: 16, temperature: 0 });
out.completion = completion.choices[0].text;
out.completionStreamed = await text(await client.completions.create({ model: task, prompt: "Once upon a time",
  max_tokens: 16, temperature: 0, stream: true }), (c) => c.choices[0]?.text);

const messages = [{ role: "user", content: "Tell me a story" }];
const chat = await client.chat.completions.create({ model: task, messages, max_tokens: 24, temperature: 0 });
out.chat = chat.choices[0].message.content;
out.chatStreamed = await text(await client.chat.completions.create({ model: task, messages, max_tokens: 24,
  temperature: 0, stream: true }), (c) => c.choices[0]?.delta?.content);

const three = await client.chat.completions.create({ model: "base", messages, max_tokens: 8, n: 3, seed: 7 });
const again = await client.chat.completions.create({ model: "base", messages, max_tokens: 8, n: 3, seed: 7 });
out.seeded = { choices: three.choices.length, same: JSON.stringify(three.choices.map((c) => c.message.content))
  === JSON.stringify(again.choices.map((c) => c.message.content)) };

out.unknownTask = await caught(() => client.chat.completions.create({ model: "no-such-task", messages }));
out.wrongType = await caught(() => client.completions.create({ model: "base", prompt: "x", max_tokens: "many" }));
const long = "the little dog ran to the park and back again. ".repeat(150);
out.longStreamed = await caught(async () => text(await client.chat.completions.create({ model: "base",
  messages: [{ role: "user", content: long }], stream: true }), (c) => c.choices[0]?.delta?.content));

console.log(JSON.stringify(out));
