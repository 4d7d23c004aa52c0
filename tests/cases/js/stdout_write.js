process.stdout.write("Loading");
process.stdout.write(" (please wait)");
setTimeout(() => {
  process.stdout.write("... done\nline two\nline three\n");
  process.stdout.write(Buffer.from("bytes: é\n"));
  process.stdout.write("no newline at the end");
}, 5);
