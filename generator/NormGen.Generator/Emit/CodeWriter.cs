using System;
using System.Text;

namespace NormGen.Generator.Emit;

/// <summary>A string builder that indents: generated code is written line by line with blocks that indent themselves.</summary>
internal sealed class CodeWriter
{
    private const string IndentUnit = "    ";
    private readonly StringBuilder _text = new();
    private int _depth;

    /// <summary>Writes one line at the current indentation; an empty call writes a blank line.</summary>
    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            for (int i = 0; i < _depth; i++)
            {
                _text.Append(IndentUnit);
            }
            _text.Append(line);
        }
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes several lines (a raw string literal's lines) at the current indentation.</summary>
    public CodeWriter Lines(string text)
    {
        foreach (string line in text.Replace("\r\n", "\n").Split('\n'))
        {
            Line(line);
        }
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents until the returned scope is disposed.</summary>
    public Scope Block(string header)
    {
        Line(header);
        Line("{");
        _depth++;
        return new Scope(this);
    }

    /// <summary>
    /// <see cref="Block"/> where there is a <paramref name="header"/>; with none, nothing, and the lines written before the
    /// scope is disposed stand at the current indentation (code that some configurations wrap in a condition and others
    /// do not).
    /// </summary>
    public Scope BlockIf(string? header) => header is null ? default : Block(header);

    public override string ToString() => _text.ToString();

    /// <summary>Closes a <see cref="Block"/> (a default scope, from <see cref="BlockIf"/>, closes nothing).</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly CodeWriter? _writer;

        public Scope(CodeWriter writer) => _writer = writer;

        public void Dispose()
        {
            if (_writer is null)
            {
                return;
            }
            _writer._depth--;
            _writer.Line("}");
        }
    }
}
