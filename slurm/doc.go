// Package slurm owns nbtunnel's side of a SLURM cluster: the batch job that runs Jupyter on a compute node,
// and the POSIX sh scripts that submit it (sbatch), report on it (squeue, scontrol), tell it where to
// listen, and cancel it (scancel), run over the login host's shell with the script on stdin of "sh -s".
//
// A job of ours is named JobName. It keeps its records under $HOME/.nbtunnel/slurm/JOBID on the shared home:
// node (the node it runs on), nonce, mode (written by nbtunnel: "loopback" when nbtunnel can ssh to the
// node through the login host, "addr=IP" when Jupyter must listen on the node's own address), current (the
// number N of the latest start) and launch.N (jupyter.LaunchScript's framed result for start N, holding the
// runtime file). Because the node is recorded, a server on another node is never taken for a dead one.
//
// The token never appears on a command line: the submit script (on stdin) writes it to a 0600 file that the
// job reads, and Jupyter gets it through JUPYTER_TOKEN. Every value reaches a script through ShellQuote.
package slurm
