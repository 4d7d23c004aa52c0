// An error thrown after an await rejects the async function's promise. Nobody handles it, so the
// process dies, and the report belongs to the await continuation that threw.
async function main() {
  console.log("before await");
  await null;
  throw new Error("after await");
}

main();
