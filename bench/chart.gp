# Delay p99 and daemon CPU against players: gnuplot -e "datafile='..'; outfile='..'" chart.gp
set terminal pngcairo size 900,520 font ",11"
set output outfile
set title "skirmishd under N fighting players (20 Hz, 5 inputs/s each)"
set xlabel "players"
set logscale x
set ylabel "frame delay p99 (ms)"
set y2label "daemon CPU (% of one core)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key top left
plot datafile using 1:2 with linespoints lw 2 pt 7 title "delay p99 (ms)", \
     datafile using 1:4 with linespoints lw 1 pt 6 dt 2 title "delay p50 (ms)", \
     datafile using 1:3 axes x1y2 with linespoints lw 2 pt 5 title "daemon CPU (%)"
