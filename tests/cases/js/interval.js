let runs = 0;
const interval = setInterval(() => {
  runs += 1;
  console.log(`tick ${runs}`);
  if (runs === 3) {
    clearInterval(interval);
  }
}, 10);
