using System;
using System.Collections;
using System.Diagnostics;
using System.IO;
using System.Text;

namespace NormGen.Package.Tests;

/// <summary>The output and exit code of one <c>dotnet</c> command.</summary>
internal sealed record CommandResult(string Command, int ExitCode, string Output)
{
    /// <summary>The command and everything it printed, for assertion messages.</summary>
    public override string ToString() => $"$ {Command}\n(exit code {ExitCode})\n{Output}";
}

/// <summary>
/// Runs the <c>dotnet</c> CLI as a user would from a shell: the same SDK that runs the tests, but none of the
/// MSBuild variables the test host inherits from <c>dotnet test</c>, no MSBuild nodes left behind, and a time limit.
/// </summary>
internal static class Dotnet
{
    private static readonly TimeSpan TimeLimit = TimeSpan.FromMinutes(4);

    /// <summary>The dotnet executable: the one the CLI that started the tests names, else the one on PATH.</summary>
    private static string Executable =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public static CommandResult Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            string name = (string)variable.Key;
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string command = "dotnet " + string.Join(' ', arguments);
        if (!process.WaitForExit(TimeLimit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"'{command}' in {workingDirectory} took longer than {TimeLimit}:\n{Text(output)}");
        }

        process.WaitForExit(); // drains the redirected streams
        return new CommandResult(command, process.ExitCode, Text(output));
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}
