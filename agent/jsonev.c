/* Tandem — MIT licence. placeholder */
